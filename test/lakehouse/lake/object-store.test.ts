import { describe, expect, it } from "vitest";
import {
  LakeConfigError,
  objectStoreSecret,
  openDuckDB,
  openLake,
  resolveLakeLocation,
} from "../../../lakehouse";
import { count, tempDir } from "../fixture";

const R2_ENV = {
  R2_ACCOUNT_ID: "0123456789abcdef0123456789abcdef",
  R2_ACCESS_KEY_ID: "AKR2EXAMPLE",
  R2_SECRET_ACCESS_KEY: "r2-secret-value",
};

async function secretsAfter(sql: string) {
  const db = await openDuckDB({ extensions: ["httpfs"] });
  try {
    await db.connection.run(sql);
    return (
      await db.connection.runAndReadAll(
        "SELECT name, type, scope, secret_string FROM duckdb_secrets()",
      )
    ).getRowObjectsJS();
  } finally {
    db.close();
  }
}

describe("object storage (R2, S3) for the lake's data", () => {
  it("makes an R2 secret scoped to the bucket from R2_* variables", async () => {
    const secret = objectStoreSecret("r2://lab-memory/lake/", R2_ENV)!;
    expect(secret.describe).toBe(
      "CREATE OR REPLACE SECRET auraison_lake (TYPE r2, KEY_ID 'AKR2EXAMPLE', SECRET '***', ACCOUNT_ID '0123456789abcdef0123456789abcdef', SCOPE 'r2://lab-memory')",
    );
    const [row] = await secretsAfter(secret.sql);
    expect(row).toMatchObject({ name: "auraison_lake", type: "r2", scope: ["r2://lab-memory"] });
    expect(row!.secret_string).toContain(
      "endpoint=0123456789abcdef0123456789abcdef.r2.cloudflarestorage.com",
    );
    expect(row!.secret_string).toContain("key_id=AKR2EXAMPLE");
    expect(row!.secret_string).not.toContain("r2-secret-value");
  });

  it("makes an S3 secret for any S3-compatible endpoint, with AWS_* names as the fallback", async () => {
    const secret = objectStoreSecret("s3://lake/prefix/", {
      S3_ENDPOINT: "http://minio.lab:9000",
      S3_REGION: "eu-central-1",
      AWS_ACCESS_KEY_ID: "minio",
      AWS_SECRET_ACCESS_KEY: "minio-secret",
    })!;
    const [row] = await secretsAfter(secret.sql);
    expect(row).toMatchObject({ type: "s3", scope: ["s3://lake"] });
    for (const part of [
      "endpoint=minio.lab:9000",
      "region=eu-central-1",
      "use_ssl=false",
      "url_style=path",
      "key_id=minio",
    ])
      expect(row!.secret_string).toContain(part);
    expect(objectStoreSecret("/local/lake/", {})).toBeNull();
  });

  it("names the variable that is missing", () => {
    expect(() => objectStoreSecret("r2://b/", { R2_ACCOUNT_ID: "a" })).toThrow(LakeConfigError);
    expect(() => objectStoreSecret("r2://b/", { R2_ACCOUNT_ID: "a" })).toThrow(/R2_ACCESS_KEY_ID/);
    expect(() => objectStoreSecret("s3://b/", {})).toThrow(/S3_ACCESS_KEY_ID/);
    expect(() =>
      objectStoreSecret("s3://b/", {
        S3_ACCESS_KEY_ID: "k",
        S3_SECRET_ACCESS_KEY: "s",
        S3_URL_STYLE: "virtual",
      }),
    ).toThrow(/S3_URL_STYLE/);
  });

  it("refuses a data path that is not a URL with a bucket, as a usage error that hides its keys", () => {
    const creds = { S3_ACCESS_KEY_ID: "k", S3_SECRET_ACCESS_KEY: "s", ...R2_ENV };
    const refused = (path: string) => {
      try {
        objectStoreSecret(path, creds);
      } catch (error) {
        expect(error).toBeInstanceOf(LakeConfigError);
        return (error as Error).message;
      }
      throw new Error(`${path} was taken`);
    };
    expect(refused("s3://bad host/")).toBe(
      "data path 's3://bad host/' is not a valid s3:// URL (s3://<bucket>/<prefix>)",
    );
    expect(refused("r2://AKIA1:hunter2@bad host/")).toBe(
      "data path 'r2://AKIA1:***@bad host/' is not a valid r2:// URL (r2://<bucket>/<prefix>)",
    );
    expect(refused("s3:///lake/")).toBe(
      "data path 's3:///lake/' names no bucket (s3://<bucket>/<prefix>)",
    );
    expect(() => objectStoreSecret("s3://AKIA1:hunter2@b/", {})).toThrow(
      "data path s3://AKIA1:***@b/ needs S3 credentials",
    );
  });

  it("creates a lake whose data path is an r2:// URL (catalog only: no bucket is reachable here)", async () => {
    const dir = tempDir();
    const location = resolveLakeLocation({ dataPath: "r2://lab-memory/lake" }, dir, {});
    const lake = await openLake(location, { env: R2_ENV });
    try {
      const settings = await lake.connection.runAndReadAll("FROM ducklake_settings('memory')");
      expect(settings.getRowObjectsJS()[0]).toMatchObject({
        catalog_type: "sqlite",
        data_path: "r2://lab-memory/lake/",
      });
      expect(await count(lake, "SELECT count(*) FROM duckdb_secrets() WHERE type = 'r2'")).toBe(1);
      expect(
        await count(lake, "SELECT max(version) FROM memory.schema_migrations"),
      ).toBeGreaterThan(0);
    } finally {
      lake.close();
    }
    await expect(openLake(location, { env: {} })).rejects.toThrow(/R2_ACCOUNT_ID/);
  });
});
