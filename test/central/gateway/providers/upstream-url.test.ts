import { describe, expect, it } from "vitest";
import {
  upstreamUrl,
  upstreamUrlProblem,
} from "../../../../central/gateway/providers/upstream-url";

describe("which provider URLs the platform calls", () => {
  const never = [
    "http://169.254.169.254/latest/meta-data",
    "https://169.254.169.254/v1",
    "https://[fe80::1]/v1",
    "https://[fd00:ec2::254]/v1",
    "https://[::ffff:169.254.169.254]/v1",
    "https://metadata.google.internal/computeMetadata/v1",
    "https://100.100.100.200/v1",
    "https://0.0.0.0/v1",
    "https://224.0.0.1/v1",
    "https://user:pass@api.example.com/v1",
    "ftp://api.example.com/v1",
  ];
  const privateOnly = [
    "http://api.example.com/v1",
    "https://127.0.0.1:8000/v1",
    "https://2130706433/v1", // 127.0.0.1 written as one number
    "https://localhost/v1",
    "https://[::1]/v1",
    "https://10.0.0.7/v1",
    "https://172.20.1.1/v1",
    "https://192.168.1.10/v1",
    "https://100.64.0.1/v1",
    "https://[fd12:3456::1]/v1",
    "https://gpu-1/v1",
    "https://gpu-1.lab.internal/v1",
    "https://printer.local/v1",
  ];

  it("refuses link-local, metadata and reserved addresses and credentials in the URL, always", () => {
    for (const url of never) {
      expect(upstreamUrlProblem(url, false), url).not.toBeNull();
      expect(upstreamUrlProblem(url, true), url).not.toBeNull();
    }
  });

  it("on Cloudflare: https to public hosts only", () => {
    for (const url of privateOnly) expect(upstreamUrlProblem(url, false), url).not.toBeNull();
    expect(upstreamUrlProblem("https://api.openai.com/v1", false)).toBeNull();
    expect(upstreamUrlProblem("https://gateway.ai.cloudflare.com/v1", false)).toBeNull();
    expect(upstreamUrlProblem("https://8.8.8.8/v1", false)).toBeNull();
  });

  it("where the operator allows private upstreams (the local stack): http, loopback and private ranges too", () => {
    for (const url of privateOnly) expect(upstreamUrlProblem(url, true), url).toBeNull();
  });

  it("gives a remembered verdict only under the setting it was judged under, with the host it calls", () => {
    const url = "http://10.0.0.7:8000/v1";
    expect(upstreamUrl(url, true)).toEqual({ problem: null, host: "10.0.0.7" });
    expect(upstreamUrl(url, false)).toEqual({ problem: "must be https" });
    expect(upstreamUrl(url, true)).toEqual({ problem: null, host: "10.0.0.7" });
    expect(upstreamUrl("not a url", true)).toEqual({ problem: "not a URL" });
    // A verdict is remembered: the same one comes back. Past the length kept, a URL is judged
    // each time, the same way, and nothing of it stays.
    expect(upstreamUrl(url, true)).toBe(upstreamUrl(url, true));
    const long = `https://api.example.com/${"v".repeat(3_000)}`;
    expect(upstreamUrl(long, false)).toEqual({ problem: null, host: "api.example.com" });
    expect(upstreamUrl(long, false)).not.toBe(upstreamUrl(long, false));
    expect(upstreamUrl(`https://127.0.0.1/${"v".repeat(3_000)}`, false).problem).toMatch(
      /loopback/,
    );
  });
});
