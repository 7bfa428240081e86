import { describe, expect, it } from "vitest";
import {
  catalogSecret,
  catalogUri,
  LakeConfigError,
  parseCatalog,
  splitPassword,
} from "../../../lakehouse";

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

  it("reads a value as libpq does: C's spaces only, a trailing backslash dropped", () => {
    expect(splitPassword("host=x password=pa\u00a0ss=1").password).toBe("pa\u00a0ss=1");
    expect(splitPassword("password=abc\\").password).toBe("abc");
    expect(splitPassword("host='a b'password=c").password).toBe("c");
  });

  it("reads a URI as libpq does: no fragment, the userinfo up to the first @ before a /", () => {
    expect(splitPassword("postgresql://r1:ab#cd?x@h/db")).toEqual({
      connection: "user='r1' host='h' dbname='db'",
      password: "ab#cd?x",
    });
    expect(splitPassword("postgresql://r1@h/db?password=ab#cd").password).toBe("ab#cd");
    // libpq's one URI alias, JDBC's, is no key=value option: it becomes what it means.
    expect(splitPassword("postgres://u:p@h/db?ssl=true").connection).toBe(
      "user='u' host='h' dbname='db' sslmode='require'",
    );
  });

  it("leaves a string without one as it is", () => {
    for (const connection of [
      "host=db.lab   dbname=lake user=lake",
      "postgresql://lake@db.lab/auraison?sslmode=require",
      "postgresql://db.lab",
    ])
      expect(splitPassword(connection)).toEqual({ connection, password: null });
  });

  it("refuses what libpq refuses, or cannot be read, saying why and never what the password is", () => {
    const cases: [string, RegExp][] = [
      ["host=x password='never closed", /unterminated quoted value of "password"/],
      ["host=x password", /missing "=" after "password"/],
      ["postgresql://u:p%zzw@h/db", /invalid percent-encoded token/],
      ["postgresql://u:p%00w@h/db", /forbidden %00/],
      ["postgresql://u:p%FFw@h/db", /not UTF-8 \(give the password with PGPASSWORD\)/],
      ["postgresql://u@h/db?sslmode", /missing "=" in the URI's query parameter "sslmode"/],
      ["postgresql://u:secret@[::1/db", /unterminated IPv6 address/],
    ];
    for (const [connection, why] of cases) {
      const error = (() => {
        try {
          splitPassword(connection);
        } catch (e) {
          return e as Error;
        }
        throw new Error(`${connection} was read`);
      })();
      expect(error, connection).toBeInstanceOf(LakeConfigError);
      expect(error.message, connection).toMatch(why);
      expect(error.message, connection).not.toMatch(/secret|never closed|p%/);
    }
    expect(() => parseCatalog("postgres:host=x password='open")).toThrow(LakeConfigError);
  });

  it("goes to DuckDB as a secret, not in the string DuckDB attaches", () => {
    const catalog = parseCatalog("postgres:host=db password='it\\'s' dbname=lake");
    expect(catalogUri(catalog)).toBe("postgres:host=db dbname=lake");
    expect(catalogSecret(catalog)).toBe(
      "CREATE OR REPLACE TEMPORARY SECRET auraison_catalog (TYPE postgres, PASSWORD 'it''s')",
    );
    expect(catalogSecret(parseCatalog("postgres:host=db dbname=lake"))).toBeNull();
    expect(catalogSecret(parseCatalog("sqlite:/lake/catalog.sqlite"))).toBeNull();
  });
});
