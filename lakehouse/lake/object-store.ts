import { isRemotePath, LakeConfigError, redactSecrets, remoteUrl, sqlString } from "./location";

/** The DuckDB secret a lake on object storage needs, and a redacted description of it. */
export interface ObjectStoreSecret {
  sql: string;
  describe: string;
}

export const SECRET_NAME = "auraison_lake";

/**
 * Builds the httpfs secret for an `r2://` or `s3://` data path from the environment:
 *
 * - R2: `R2_ACCOUNT_ID`, `R2_ACCESS_KEY_ID`, `R2_SECRET_ACCESS_KEY`.
 * - S3 or any S3-compatible store: `S3_ACCESS_KEY_ID`, `S3_SECRET_ACCESS_KEY`, and optionally
 *   `S3_REGION`, `S3_ENDPOINT` (e.g. `https://minio.lab:9000`), `S3_URL_STYLE` (`path`/`vhost`),
 *   `S3_SESSION_TOKEN`; the standard `AWS_*` names are read when the `S3_*` ones are absent.
 *
 * The secret is scoped to the data path's bucket. Null for a local data path.
 */
export function objectStoreSecret(
  dataPath: string,
  env: NodeJS.ProcessEnv = process.env,
): ObjectStoreSecret | null {
  if (!isRemotePath(dataPath)) return null;
  const url = remoteUrl(dataPath);
  const scope = `${url.protocol}//${url.host}`;
  if (url.protocol === "r2:") {
    const account = need(env, "R2_ACCOUNT_ID");
    const key = need(env, "R2_ACCESS_KEY_ID");
    const secret = need(env, "R2_SECRET_ACCESS_KEY");
    return build("r2", { KEY_ID: key, SECRET: secret, ACCOUNT_ID: account, SCOPE: scope });
  }
  const key = pick(env, "S3_ACCESS_KEY_ID", "AWS_ACCESS_KEY_ID");
  const secret = pick(env, "S3_SECRET_ACCESS_KEY", "AWS_SECRET_ACCESS_KEY");
  if (!key || !secret)
    throw new LakeConfigError(
      `data path ${redactSecrets(dataPath)} needs S3 credentials: set S3_ACCESS_KEY_ID and S3_SECRET_ACCESS_KEY (or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY)`,
    );
  const params: Record<string, string> = {
    KEY_ID: key,
    SECRET: secret,
    REGION: pick(env, "S3_REGION", "AWS_REGION") ?? "us-east-1",
  };
  const token = pick(env, "S3_SESSION_TOKEN", "AWS_SESSION_TOKEN");
  if (token) params.SESSION_TOKEN = token;
  const endpoint = pick(env, "S3_ENDPOINT", "AWS_ENDPOINT_URL");
  if (endpoint) {
    const parsed = /^(https?):\/\/(.+?)\/?$/.exec(endpoint);
    params.ENDPOINT = parsed ? parsed[2]! : endpoint;
    params.USE_SSL = parsed?.[1] === "http" ? "false" : "true";
  }
  const style = pick(env, "S3_URL_STYLE");
  if (style && style !== "path" && style !== "vhost")
    throw new LakeConfigError(`S3_URL_STYLE must be 'path' or 'vhost', not '${style}'`);
  params.URL_STYLE = style ?? (endpoint ? "path" : "vhost");
  params.SCOPE = scope;
  return build("s3", params);
}

const REDACTED = new Set(["SECRET", "SESSION_TOKEN"]);
const UNQUOTED = new Set(["USE_SSL"]);

function build(type: "r2" | "s3", params: Record<string, string>): ObjectStoreSecret {
  const render = (redact: boolean) =>
    Object.entries(params)
      .map(([k, v]) => {
        if (redact && REDACTED.has(k)) return `${k} '***'`;
        return `${k} ${UNQUOTED.has(k) ? v : sqlString(v)}`;
      })
      .join(", ");
  return {
    sql: `CREATE OR REPLACE SECRET ${SECRET_NAME} (TYPE ${type}, ${render(false)})`,
    describe: `CREATE OR REPLACE SECRET ${SECRET_NAME} (TYPE ${type}, ${render(true)})`,
  };
}

function need(env: NodeJS.ProcessEnv, name: string): string {
  const value = env[name];
  if (!value)
    throw new LakeConfigError(
      `an r2:// data path needs ${name} (with R2_ACCOUNT_ID, R2_ACCESS_KEY_ID, R2_SECRET_ACCESS_KEY)`,
    );
  return value;
}

function pick(env: NodeJS.ProcessEnv, ...names: string[]): string | undefined {
  for (const name of names) if (env[name]) return env[name];
  return undefined;
}
