import { z } from "zod";
import { defineMachine } from "./machine";

export const PLAN_STATUSES = [
  "planning",
  "awaiting_approval",
  "running",
  "paused",
  "replanning",
  "completed",
  "failed",
  "cancelled",
] as const;
export const PlanStatus = z.enum(PLAN_STATUSES).meta({ id: "PlanStatus" });
export type PlanStatus = z.infer<typeof PlanStatus>;

export const PLAN_EVENTS = [
  "planned",
  "gate",
  "approve",
  "reject",
  "pause",
  "resume",
  "repair",
  "replanned",
  "complete",
  "fail",
  "cancel",
] as const;
export type PlanEvent = (typeof PLAN_EVENTS)[number];

/**
 * A plan: a goal turned into a graph of steps (by a model, by a PDDL planner, or given), run by
 * central, and repaired when a step fails for good. Every step's state is the step machine's.
 */
export const planMachine = defineMachine({
  name: "plan",
  states: PLAN_STATUSES,
  events: PLAN_EVENTS,
  initial: "planning",
  terminal: ["completed", "failed", "cancelled"],
  edges: [
    { from: "planning", on: "planned", to: "running", why: "a valid plan was made; steps start" },
    {
      from: "planning",
      on: "gate",
      to: "awaiting_approval",
      why: "a valid plan was made and must be approved before it starts",
    },
    {
      from: "awaiting_approval",
      on: "approve",
      to: "running",
      why: "an operator approved the plan",
    },
    {
      from: "awaiting_approval",
      on: "reject",
      to: "failed",
      why: "an operator rejected the plan",
    },
    { from: "running", on: "pause", to: "paused", why: "paused: no new step starts" },
    { from: "paused", on: "resume", to: "running", why: "resumed: ready steps start again" },
    {
      from: "running",
      on: "repair",
      to: "replanning",
      why: "a step failed past its retries (or was rejected): the rest is planned again",
    },
    {
      from: "replanning",
      on: "replanned",
      to: "running",
      why: "a new version of the steps not yet done replaced the old",
    },
    { from: "running", on: "complete", to: "completed", why: "every step completed" },
    {
      from: "planning",
      on: "fail",
      to: "failed",
      why: "no valid plan within the planning attempts",
    },
    {
      from: "replanning",
      on: "fail",
      to: "failed",
      why: "no repair within the replans the policy allows",
    },
    {
      from: "running",
      on: "fail",
      to: "failed",
      why: "a step failed and the policy does not replan, or the plan's budget ran out",
    },
    { from: "paused", on: "fail", to: "failed", why: "the plan's budget or deadline ran out" },
    {
      from: "awaiting_approval",
      on: "fail",
      to: "failed",
      why: "the plan's budget (its planning calls) or deadline ran out before a decision",
    },
    { from: "planning", on: "cancel", to: "cancelled", why: "cancelled while planning" },
    { from: "awaiting_approval", on: "cancel", to: "cancelled", why: "cancelled before approval" },
    { from: "running", on: "cancel", to: "cancelled", why: "cancelled; running steps stop" },
    { from: "paused", on: "cancel", to: "cancelled", why: "cancelled while paused" },
    { from: "replanning", on: "cancel", to: "cancelled", why: "cancelled while replanning" },
  ],
});

export const STEP_STATUSES = [
  "waiting",
  "awaiting_approval",
  "ready",
  "running",
  "completed",
  "failed",
  "cancelled",
  "superseded",
] as const;
export const StepStatus = z.enum(STEP_STATUSES).meta({ id: "StepStatus" });
export type StepStatus = z.infer<typeof StepStatus>;

export const STEP_EVENTS = [
  "unblock",
  "gate",
  "approve",
  "reject",
  "start",
  "complete",
  "retry",
  "fail",
  "cancel",
  "supersede",
] as const;
export type StepEvent = (typeof STEP_EVENTS)[number];

/** One step of a plan: waits for the steps it depends on, runs as one intent, may be retried. */
export const stepMachine = defineMachine({
  name: "step",
  states: STEP_STATUSES,
  events: STEP_EVENTS,
  initial: "waiting",
  terminal: ["completed", "failed", "cancelled", "superseded"],
  edges: [
    { from: "waiting", on: "unblock", to: "ready", why: "every step it depends on completed" },
    {
      from: "waiting",
      on: "gate",
      to: "awaiting_approval",
      why: "its dependencies completed and it needs a person's approval to start",
    },
    { from: "awaiting_approval", on: "approve", to: "ready", why: "an operator approved it" },
    {
      from: "awaiting_approval",
      on: "reject",
      to: "failed",
      why: "rejected, or its approval expired",
    },
    { from: "ready", on: "start", to: "running", why: "its intent was submitted" },
    { from: "running", on: "complete", to: "completed", why: "its run completed" },
    {
      from: "running",
      on: "retry",
      to: "ready",
      why: "its run failed and the step has attempts left",
    },
    { from: "running", on: "fail", to: "failed", why: "its run failed past the step's attempts" },
    { from: "ready", on: "fail", to: "failed", why: "its intent could not be submitted" },
    { from: "waiting", on: "cancel", to: "cancelled", why: "the plan ended before it could run" },
    { from: "awaiting_approval", on: "cancel", to: "cancelled", why: "the plan ended" },
    { from: "ready", on: "cancel", to: "cancelled", why: "the plan ended" },
    { from: "running", on: "cancel", to: "cancelled", why: "the plan ended; its run is cancelled" },
    {
      from: "waiting",
      on: "supersede",
      to: "superseded",
      why: "a replan replaced the steps not yet done",
    },
    { from: "awaiting_approval", on: "supersede", to: "superseded", why: "a replan replaced it" },
    { from: "ready", on: "supersede", to: "superseded", why: "a replan replaced it" },
  ],
});

export const APPROVAL_STATUSES = [
  "pending",
  "approved",
  "rejected",
  "expired",
  "withdrawn",
] as const;
export const ApprovalStatus = z.enum(APPROVAL_STATUSES).meta({ id: "ApprovalStatus" });
export type ApprovalStatus = z.infer<typeof ApprovalStatus>;

export const APPROVAL_EVENTS = ["approve", "reject", "expire", "withdraw"] as const;
export type ApprovalEvent = (typeof APPROVAL_EVENTS)[number];

/** A request for a person's decision on a plan or a step, with an optional deadline. */
export const approvalMachine = defineMachine({
  name: "approval",
  states: APPROVAL_STATUSES,
  events: APPROVAL_EVENTS,
  initial: "pending",
  terminal: ["approved", "rejected", "expired", "withdrawn"],
  edges: [
    { from: "pending", on: "approve", to: "approved", why: "an operator approved it" },
    { from: "pending", on: "reject", to: "rejected", why: "an operator rejected it" },
    { from: "pending", on: "expire", to: "expired", why: "its deadline passed undecided" },
    {
      from: "pending",
      on: "withdraw",
      to: "withdrawn",
      why: "what it asked about ended first (the plan was cancelled or replanned)",
    },
  ],
});
