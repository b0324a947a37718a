/**
 * CDXJ timestamps: the capture time a line's timestamp gives, which Memento-Datetime shows.
 */
import { httpDate, timestampTime } from '../../src/replay/memento'

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
