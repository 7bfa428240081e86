/**
 * The runtime contract's version. Bump the minor for additive changes (new optional
 * fields, new event kinds) and the major for anything an older peer would misread.
 * Peers announce it in the WebSocket `hello`/`welcome`; a major mismatch is refused.
 */
export const CONTRACT_VERSION = "1.4.0";

export function contractMajor(version: string): number {
  return Number.parseInt(version.split(".")[0] ?? "", 10);
}

export function isCompatibleContract(peer: string, own: string = CONTRACT_VERSION): boolean {
  const major = contractMajor(peer);
  return Number.isFinite(major) && major === contractMajor(own);
}
