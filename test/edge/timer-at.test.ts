import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { timerAt } from "../../edge/timer-at";

const DAY = 24 * 3_600_000;

describe("timerAt", () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it("fires at its time however far off, not when setTimeout's limit wraps", () => {
    const fire = vi.fn();
    timerAt(Date.now() + 60 * DAY, fire);
    vi.advanceTimersByTime(1);
    expect(fire).not.toHaveBeenCalled();
    vi.advanceTimersByTime(60 * DAY - 2);
    expect(fire).not.toHaveBeenCalled();
    vi.advanceTimersByTime(1);
    expect(fire).toHaveBeenCalledOnce();
  });

  it("fires at once for a time past, and never once cancelled", () => {
    const past = vi.fn();
    timerAt(Date.now() - 1_000, past);
    vi.advanceTimersByTime(0);
    expect(past).toHaveBeenCalledOnce();
    const cancelled = vi.fn();
    const timer = timerAt(Date.now() + 40 * DAY, cancelled);
    vi.advanceTimersByTime(30 * DAY);
    timer.cancel();
    vi.advanceTimersByTime(20 * DAY);
    expect(cancelled).not.toHaveBeenCalled();
  });
});
