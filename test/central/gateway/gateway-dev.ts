import { randomBytes } from "node:crypto";
import { SseReader } from "../../../central/gateway/sse/reader";
import type { ManagedProcess } from "../../../cli/local-stack/processes";
import type { StoredEvent } from "../../../contract";
import { CentralClient, IntentAccepted, PATHS } from "../../../contract";
import {
  type CentralDev,
  createKey,
  gatewayTenant,
  startCentralDev,
} from "../../helpers/central-dev";

export { gatewayTenant };

import { type OtlpReceiver, otlpReceiver } from "../../helpers/otlp-receiver";
import { agentOnline, runEnded, startSampleEdge } from "../../helpers/platform-processes";
import { type Behaviour, type FakeUpstream, startFakeUpstream } from "./fake-upstreams";

/** Provider credentials the tests hand central as Worker secrets, and a key-encryption key. */
export const SECRETS = {
  AURAISON_GATEWAY_KEK: randomBytes(32).toString("base64url"),
  FAKE_OPENAI_KEY: `sk-proj-${randomBytes(24).toString("base64url")}`,
  FAKE_ANTHROPIC_KEY: `sk-ant-api03-${randomBytes(24).toString("base64url")}`,
};

/** The provider secrets offered to every tenant, for the fake upstreams on this machine. */
export const OFFERS = {
  FAKE_OPENAI_KEY: { hosts: ["127.0.0.1"] },
  FAKE_ANTHROPIC_KEY: { hosts: ["127.0.0.1"] },
};

/** Central under wrangler dev with the gateway's secrets, allowed to call providers on 127.0.0.1. */
export function startGatewayDev(vars: Record<string, string> = {}): Promise<CentralDev> {
  return startCentralDev({
    vars: {
      ...SECRETS,
      AURAISON_PROVIDER_SECRETS: JSON.stringify(OFFERS),
      AURAISON_PRIVATE_UPSTREAMS: "allow",
      ...vars,
    },
  });
}

/** Central under wrangler dev and a fake provider of each dialect, started together. */
export async function startGatewayWithFakes(): Promise<{
  central: CentralDev;
  openai: FakeUpstream;
  anthropic: FakeUpstream;
  stop: () => Promise<void>;
}> {
  const [central, openai, anthropic] = await Promise.all([
    startGatewayDev(),
    startFakeUpstream("openai"),
    startFakeUpstream("anthropic"),
  ]);
  return {
    central,
    openai,
    anthropic,
    stop: async () => {
      await Promise.all([central.stop(), openai.close(), anthropic.close()]);
    },
  };
}

/**
 * A gateway that routes the alias `auto` to one OpenAI-compatible provider at `upstream` (a fake
 * one), priced at $1 and $2 per million input and output tokens.
 */
export function oneProviderConfig(upstream: string) {
  return {
    providers: [
      {
        id: "lab-vllm",
        kind: "openai-compatible",
        base_url: `${upstream}/v1`,
        key: { secret: "FAKE_OPENAI_KEY" },
        models: ["qwen-notes"],
      },
    ],
    aliases: { auto: { candidates: ["lab-vllm/qwen-notes"] } },
    prices: { version: "test", models: { "qwen-notes": { input: 1, output: 2 } } },
  };
}

export function post(
  central: CentralDev,
  path: string,
  key: string,
  body: unknown,
  headers: Record<string, string> = {},
): Promise<Response> {
  return fetch(`${central.url}${path}`, {
    method: "POST",
    headers: { authorization: `Bearer ${key}`, "content-type": "application/json", ...headers },
    body: JSON.stringify(body),
  });
}

/** The raw SSE events of a response, as the client received them, with when each arrived. */
export async function readEvents(
  response: Response,
): Promise<{ raw: string; data: string; at: number }[]> {
  const reader = new SseReader(response.body!);
  const out: { raw: string; data: string; at: number }[] = [];
  for (;;) {
    const event = await reader.next();
    if (!event) return out;
    out.push({ raw: event.raw, data: event.data, at: performance.now() });
  }
}

/** The tenant's model_call events, once `count` of them are in the log (settling is asynchronous). */
export async function modelCalls(
  central: CentralDev,
  admin: string,
  count: number,
  timeoutMs = 10_000,
) {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const response = await fetch(`${central.url}/v1/events?kind=model_call&limit=1000`, {
      headers: { authorization: `Bearer ${admin}` },
    });
    const { events } = (await response.json()) as {
      events: Extract<StoredEvent, { kind: "model_call" }>[];
    };
    if (events.length >= count) return events;
    if (Date.now() > until)
      throw new Error(`only ${events.length} of ${count} model_call events arrived`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Waits until the tenant's model_call events satisfy `done` (settling is asynchronous). */
export async function waitForCalls(
  central: CentralDev,
  admin: string,
  done: (events: Extract<StoredEvent, { kind: "model_call" }>[]) => boolean,
  timeoutMs = 10_000,
) {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const events = await modelCalls(central, admin, 0);
    if (done(events)) return events;
    if (Date.now() > until)
      throw new Error(
        `model_call events never matched: ${JSON.stringify(events.map((e) => e.payload.error_type))}`,
      );
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** The model_call event of one call (its `x-auraison-call-id`), once it has settled. */
export async function modelCallOf(central: CentralDev, admin: string, callId: string | null) {
  const events = await waitForCalls(central, admin, (all) =>
    all.some((e) => e.payload.call_id === callId),
  );
  return events.find((e) => e.payload.call_id === callId)!;
}

/** Central's gateway with a fake OpenAI-style provider, and a sample edge agent using it. */
export interface EdgeOnGateway {
  central: CentralDev;
  upstream: FakeUpstream;
  /** The OTLP receiver the agent (and central, if asked) export their spans to. */
  traces: OtlpReceiver;
  edge: ManagedProcess;
  admin: CentralClient;
  adminKey: string;
  agentKey: string;
  stop(): Promise<void>;
}

/**
 * Starts central (exporting its own spans too when `centralTraces`), a fake provider as the
 * tenant's one provider, an OTLP receiver and the sample `lab-notes` agent, online.
 */
export async function edgeOnGateway(options: {
  agentId: string;
  state: string;
  centralTraces: boolean;
}): Promise<EdgeOnGateway> {
  const [upstream, traces] = await Promise.all([startFakeUpstream("openai"), otlpReceiver()]);
  const central = await startGatewayDev(
    options.centralTraces ? { OTEL_EXPORTER_OTLP_ENDPOINT: traces.url } : {},
  );
  const tenant = await gatewayTenant(central, oneProviderConfig(upstream.url));
  const admin = new CentralClient({ url: central.url, key: tenant.admin });
  const agentKey = await createKey(central.url, tenant.admin, "agent", "lab host", "lab-notes");
  const edge = startSampleEdge({
    agentId: options.agentId,
    state: options.state,
    central: { url: central.url, key: agentKey },
    env: { OTEL_EXPORTER_OTLP_ENDPOINT: traces.url },
  });
  await agentOnline(admin, options.agentId, edge);
  return {
    central,
    upstream,
    traces,
    edge,
    admin,
    adminKey: tenant.admin,
    agentKey,
    stop: async () => {
      await edge.stop("SIGTERM", 20_000);
      await Promise.all([central.stop(), upstream.close(), traces.close()]);
    },
  };
}

/** The provider's side of the sample app's notes question: a call of its `ls` tool, then the answer. */
export const NOTES_ANSWERS: Behaviour[] = [
  {
    kind: "answer",
    toolCalls: [{ id: "call_ls", name: "ls", arguments: '{"path":"notes"}' }],
    usage: { input: 900, output: 20 },
  },
  {
    kind: "answer",
    text: "There are three notes: sample prep, spectrometer calibration and the group meeting.",
    usage: { input: 1_100, output: 25 },
  },
];

/**
 * Asks the sample agent the notes question within a caller's trace (an orchestrator's, say:
 * `traceparent`, maybe `tracestate`), and waits for its run to end.
 */
export async function askNotesInTrace(stack: EdgeOnGateway, trace: Record<string, string>) {
  const submitted = await fetch(`${stack.central.url}${PATHS.intents}`, {
    method: "POST",
    headers: {
      authorization: `Bearer ${stack.adminKey}`,
      "content-type": "application/json",
      ...trace,
    },
    body: JSON.stringify({
      params: { prompt: "Which notes are in the notebook?" },
      targets: [{ app: "lab-notes" }],
    }),
  });
  if (submitted.status !== 201)
    throw new Error(`submitting failed: ${submitted.status} ${await submitted.text()}`);
  const accepted = IntentAccepted.parse(await submitted.json());
  const run = await runEnded(stack.admin, accepted.run, stack.edge);
  return { accepted, run };
}
