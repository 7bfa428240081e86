import { describe, expect, it } from "vitest";
import { catalogSecret, catalogUri, parseCatalog, splitPassword } from "../../../lakehouse";

describe("a PostgreSQL catalog's password", () => {
  it("is taken out of libpq's key=value form, however it is spelled", () => {
    expect(splitPassword("host=db.lab password=hunter2 dbname=lake")).toEqual({
      connection: "host=db.lab dbname=lake",
      password: "hunter2",
    });
    expect(splitPassword(String.raw`host=db password = 'it\'s a \\ secret' dbname=lake`)).toEqual({
      connection: "host=db dbname=lake",
      password: String.raw`it's a \ secret`,
    });
    expect(splitPassword(String.raw`password=a\ b host=x`)).toEqual({
      connection: "host=x",
      password: "a b",
    });
    // libpq takes the last of a repeated key.
    expect(splitPassword("password=first host=x password=last").password).toBe("last");
    expect(splitPassword("host=x password='' dbname=y")).toEqual({
      connection: "host=x dbname=y",
      password: "",
    });
  });

  it("is taken out of a URI, decoded, and the URI given back as key=value pairs", () => {
    expect(
      splitPassword("postgresql://lake:p%40ss%20w@db.lab:5433/auraison?sslmode=require"),
    ).toEqual({
      connection: "user='lake' host='db.lab' port='5433' dbname='auraison' sslmode='require'",
      password: "p@ss w",
    });
    expect(splitPassword("postgres://lake@db/x?password=s%26cr'et&application_name=a%20b")).toEqual(
      {
        connection: "user='lake' host='db' dbname='x' application_name='a b'",
        password: "s&cr'et",
      },
    );
    expect(splitPassword("postgresql://u:p@[::1]:5432,db2/x").connection).toBe(
      "user='u' host='::1,db2' port='5432,' dbname='x'",
    );
  });

  it("leaves a string without one, or one libpq cannot read, as it is", () => {
    for (const connection of [
      "host=db.lab   dbname=lake user=lake",
      "postgresql://lake@db.lab/auraison?sslmode=require",
      "host=x password='never closed",
      "host=x password",
    ])
      expect(splitPassword(connection)).toEqual({ connection, password: null });
  });

  it("goes to DuckDB as a secret, not in the string DuckDB attaches", () => {
    const catalog = parseCatalog("postgres:host=db password='it\\'s' dbname=lake");
    expect(catalogUri(catalog)).toBe("postgres:host=db dbname=lake");
    expect(catalogSecret(catalog)).toBe(
      "CREATE TEMPORARY SECRET (TYPE postgres, PASSWORD 'it''s')",
    );
    expect(catalogSecret(parseCatalog("postgres:host=db dbname=lake"))).toBeNull();
    expect(catalogSecret(parseCatalog("sqlite:/lake/catalog.sqlite"))).toBeNull();
  });
});
