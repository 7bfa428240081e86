/** A lake location or setting that cannot work as given: the user's to fix (CLI exit 2). */
export class LakeConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "LakeConfigError";
  }
}
