import { z } from "zod";
import { ApiError } from "./api/errors";
import { EventsPage, IngestRequest, IngestResult } from "./api/events";
import { AgentInfo, AgentList } from "./api/fleet";
import { GatewayConfig, GatewayConfigView, GatewayStatus, LimitRefusal } from "./api/gateway";
import {
  AuditEntry,
  AuditList,
  KeyCreated,
  KeyCreateRequest,
  KeyInfo,
  KeyList,
  TenantCreated,
  TenantCreateRequest,
} from "./api/governance";
import {
  CancelRequest,
  ForkRequest,
  IntentAccepted,
  IntentInfo,
  IntentList,
  RunList,
} from "./api/runs";
import { TenantSettings } from "./api/settings";
import { Health } from "./api/system";
import { AgentEvent, StoredEvent } from "./events/agent-event";
import { Intent, IntentRequest } from "./intent";
import { PolicyDecision } from "./policy";
import { ProjectionEvent } from "./projection-event";
import { RetryPolicy, RunState } from "./run-state";
import { Skill } from "./skill";
import { ToolCall } from "./tool-call";
import { CONTRACT_VERSION } from "./version";
import { AgentRegistration, CentralMessage, EdgeMessage } from "./wire";

/** The schemas published as JSON Schema files in contract/schema/ (and as OpenAPI components). */
export const PUBLISHED_SCHEMAS = {
  Intent,
  IntentRequest,
  Skill,
  ToolCall,
  RunState,
  RetryPolicy,
  AgentEvent,
  StoredEvent,
  ProjectionEvent,
  PolicyDecision,
  AgentRegistration,
  EdgeMessage,
  CentralMessage,
  EventsPage,
  IngestResult,
  AgentInfo,
  ApiError,
  TenantCreateRequest,
  TenantCreated,
  KeyCreateRequest,
  KeyCreated,
  KeyInfo,
  AuditEntry,
  AuditList,
  KeyList,
  AgentList,
  IntentAccepted,
  IntentInfo,
  IntentList,
  RunList,
  ForkRequest,
  CancelRequest,
  IngestRequest,
  TenantSettings,
  Health,
  GatewayConfig,
  GatewayConfigView,
  GatewayStatus,
  LimitRefusal,
} as const satisfies Record<string, z.ZodType>;

export type PublishedSchemaName = keyof typeof PUBLISHED_SCHEMAS;

/** JSON Schema (draft 2020-12) of what a validator accepts for `name`. */
export function jsonSchemaOf(name: PublishedSchemaName): Record<string, unknown> {
  const schema = z.toJSONSchema(PUBLISHED_SCHEMAS[name], { io: "input", unrepresentable: "any" });
  return {
    $schema: schema.$schema,
    $id: `https://auraison.dev/schema/v${CONTRACT_VERSION}/${name}.json`,
    title: name,
    ...schema,
  };
}

/**
 * OpenAPI 3.1 `components.schemas` for every contract schema that has an id, with refs between
 * them, generated from the same zod definitions the runtimes validate with.
 */
export function openApiComponents(): Record<string, Record<string, unknown>> {
  // Every contract schema with an id becomes a component, so refs never point into `$defs`.
  const { schemas } = z.toJSONSchema(z.globalRegistry, {
    io: "input",
    unrepresentable: "any",
    uri: (id) => `#/components/schemas/${id}`,
  });
  const components: Record<string, Record<string, unknown>> = {};
  for (const [id, schema] of Object.entries(schemas)) {
    const { $schema: _drop, $id: _id, ...rest } = schema as Record<string, unknown>;
    components[id] = rest;
  }
  return components;
}
