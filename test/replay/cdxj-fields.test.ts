/**
 * CDXJ lines whose JSON fields are not of the types an index writes: each is skipped like any
 * bad line, and the index around it is read.
 */
import { posix } from 'node:path'
import { Readable } from 'node:stream'
import { CaptureIndexBuilder } from '../../src/replay/capture-index'
import { readCdxj } from '../../src/replay/cdxj'

const GOOD =
  'com,example)/ 20240101000000 {"url":"http://example.com/","offset":0,"length":10,"filename":"a.warc"}'

async function read(bad: string) {
  const builder = new CaptureIndexBuilder()
  const warnings: string[] = []
  const added = await readCdxj(Readable.from([`${bad}\n${GOOD}\n`]), 'index.cdxj', {
    builder,
    // As a WACZ names its WARCs: by the last part of the path.
    sourceOf: (name) => (posix.basename(name) === 'a.warc' ? 0 : undefined),
    pages: undefined,
    warn: (line) => warnings.push(line),
  })
  return { added, warnings, indexed: builder.size }
}

describe('readCdxj', () => {
  it.each([
    ['a number as the URL', '{"url":5,"offset":0,"length":1,"filename":"a.warc"}'],
    [
      'a list as the URL',
      '{"url":["http://example.com/x"],"offset":0,"length":1,"filename":"a.warc"}',
    ],
    [
      'a negative offset',
      '{"url":"http://example.com/x","offset":-7,"length":1,"filename":"a.warc"}',
    ],
    [
      'a fractional length',
      '{"url":"http://example.com/x","offset":0,"length":1.5,"filename":"a.warc"}',
    ],
  ])('skips a line with %s and reads the rest', async (_, json) => {
    const { added, warnings, indexed } = await read(`com,example)/x 20240101000000 ${json}`)
    expect(added).toBe(1)
    expect(warnings).toEqual([
      'index.cdxj: line 1: not a CDXJ line, skipped (and any more like it)',
    ])
    expect(indexed).toBe(1)
  })

  it.each([
    [
      'a number as the file name',
      '{"url":"http://example.com/x","offset":0,"length":1,"filename":5}',
    ],
    [
      'a number as the method',
      '{"url":"http://example.com/x","offset":0,"length":1,"filename":"a.warc","method":5}',
    ],
  ])('reads the index past a line with %s', async (_, json) => {
    const { added, indexed } = await read(`com,example)/x 20240101000000 ${json}`)
    expect(added).toBeGreaterThanOrEqual(1)
    expect(indexed).toBe(added)
  })
})
