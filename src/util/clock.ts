/**
 * The clock of log records: `performance.now` as it is when the library loads. A test's fake
 * timers (`vi.useFakeTimers()`) replace the global `performance` with one whose time stands
 * still or jumps as the test says; a request's duration, and the order and `clear()` of the test
 * kit's records, follow real time whatever the test does with its own clock.
 * @module
 */
export const now: () => number = performance.now.bind(performance)
