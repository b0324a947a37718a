/**
 * CDXJ timestamps: the capture time a line's timestamp gives, which Memento-Datetime shows; and
 * the time an Accept-Datetime header asks for.
 */
import { acceptDatetime, httpDate, timestampTime } from '../../src/replay/memento'

describe('timestampTime', () => {
  it.each([
    ['20230501120000', 'Mon, 01 May 2023 12:00:00 GMT'],
    ['2020', 'Wed, 01 Jan 2020 00:00:00 GMT'],
    ['199902', 'Mon, 01 Feb 1999 00:00:00 GMT'],
    ['00290315080910', 'Thu, 15 Mar 0029 08:09:10 GMT'],
    ['0000', 'Sat, 01 Jan 0000 00:00:00 GMT'],
  ])('reads %s as %s', (timestamp, date) => {
    expect(httpDate(timestampTime(timestamp))).toBe(date)
  })
})

describe('acceptDatetime', () => {
  it.each([
    ['Thu, 01 Jan 2015 00:00:00 GMT', 'Thu, 01 Jan 2015 00:00:00 GMT'],
    ['thu, 01 jan 2015 13:14:15 gmt', 'Thu, 01 Jan 2015 13:14:15 GMT'],
    ['Thursday, 01-Jan-15 00:00:00 GMT', 'Thu, 01 Jan 2015 00:00:00 GMT'],
    ['Sun Nov  6 08:49:37 1994', 'Sun, 06 Nov 1994 08:49:37 GMT'],
    ['  Sun, 29 Feb 2004 23:59:59 GMT ', 'Sun, 29 Feb 2004 23:59:59 GMT'],
  ])('reads the HTTP date %j as %s', (header, date) => {
    const seconds = acceptDatetime(header)
    expect(seconds === null || seconds === undefined ? seconds : httpDate(seconds)).toBe(date)
  })

  it.each([
    '1',
    '2015',
    'Thu, 01 Jan 2015 00:00:00',
    'Thu, 01 Jan 2015 00:00:00 +0100',
    '2015-01-01T00:00:00Z',
    'Thu, 31 Feb 2015 00:00:00 GMT',
    'Thu, 01 Foo 2015 00:00:00 GMT',
    'Thu, 01 Jan 2015 24:00:00 GMT',
    'soon',
  ])('refuses %j, which is no HTTP date', (header) => {
    expect(acceptDatetime(header)).toBeNull()
  })

  it('asks for no time when the header is absent or blank', () => {
    expect(acceptDatetime(null)).toBeUndefined()
    expect(acceptDatetime('  ')).toBeUndefined()
  })
})
