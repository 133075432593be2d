// Random-access loading of one runs/search query: rows arrive page by page, at any offset, as the
// table scrolls. The total comes from ui/runs/count (asked in parallel with the first page); until
// it answers, the pages themselves bound it.
import { mlflow, uiApi } from "../api.js";
import { indexRun } from "./columns.js";
import { offsetToken } from "./state.js";

export const PAGE_SIZE = 200;
// The first request is small so the first rows paint quickly; later pages are larger.
export const FIRST_PAGE = 50;
// One page at a time: concurrent deep pages only slow each other down on the server.
const MAX_IN_FLIGHT = 1;

export class RunSource {
  /** `params`: {experiment_ids, filter, run_view_type, order_by}. */
  constructor(params, signal) {
    this.params = params;
    this.signal = signal;
    this.rows = [];
    this.total = null; // known exactly (count answer, or the last page seen)
    this.estimate = 0; // a lower bound while the total is unknown
    this.inflight = []; // [start, end) ranges being fetched
    this.listeners = new Set();
    this.error = null; // a later page failed: stop asking, the table says so
    this.wanted = null; // the [start, end) window the table last asked for
  }

  /** Call `fn` whenever rows or the total change. */
  onChange(fn) {
    this.listeners.add(fn);
  }

  emit() {
    for (const fn of this.listeners) fn();
  }

  /** The number of rows the table should size itself for. */
  size() {
    return this.total ?? Math.max(this.estimate, this.rows.length);
  }

  /** Ask the server for the total (never fails: without an answer the pages bound it). */
  count() {
    const { experiment_ids, filter, run_view_type } = this.params;
    return uiApi.post("runs/count", { experiment_ids, filter, run_view_type }, { signal: this.signal })
      .then((res) => {
        if (typeof res.count === "number" && this.total === null) {
          this.total = res.count;
          this.emit();
        }
      })
      .catch(() => {});
  }

  /** Fetch `max` rows starting at `offset`; rejects with the server's error. */
  async fetch(offset, max = PAGE_SIZE) {
    const range = [offset, offset + max];
    this.inflight.push(range);
    try {
      const res = await mlflow.post("runs/search", { ...this.params, max_results: max,
        page_token: offsetToken(offset) }, { signal: this.signal });
      const runs = res.runs || [];
      runs.forEach((run, i) => { this.rows[offset + i] = indexRun(run); });
      if (!res.next_page_token) {
        // The end of the results: exact, unless the offset overshot an unknown total.
        this.total = runs.length ? offset + runs.length : Math.min(this.total ?? Infinity, this.rows.length);
      } else {
        this.estimate = Math.max(this.estimate, offset + runs.length + PAGE_SIZE);
      }
      this.emit();
      return runs.length;
    } finally {
      this.inflight = this.inflight.filter((r) => r !== range);
    }
  }

  /** Whether row `i` is loaded. */
  has(i) {
    return this.rows[i] !== undefined;
  }

  /**
   * Make sure rows [start, end) get loaded. Only the latest window counts: while pages are in
   * flight, earlier windows the user has scrolled past are dropped instead of queued, so a fast
   * scroll through thousands of rows costs a couple of requests, not one per position.
   */
  ensure(start, end) {
    this.wanted = [start, end];
    this.pump();
  }

  pump() {
    if (this.error || !this.wanted || this.inflight.length >= MAX_IN_FLIGHT) return;
    const [start, stop] = this.wanted;
    const end = Math.min(stop, this.size());
    for (let i = start; i < end; i++) {
      if (this.has(i) || this.inflight.some(([a, b]) => i >= a && i < b)) continue;
      // A full page from the first missing row covers the window and what lies just below it.
      this.fetch(i).then(() => this.pump(), (err) => {
        if (err?.name === "AbortError") return;
        this.error = err;
        this.emit();
      });
      return;
    }
  }

  /** The loaded rows, in order. */
  loaded() {
    return this.rows.filter(Boolean);
  }
}
