/**
 * Compile-time checks that the gateway's request schemas take whatever the official SDKs can
 * send. A loose zod object's type carries an index signature no SDK interface has, so the
 * schema's type is compared by its named fields only.
 */
export type Known<T> = T extends readonly (infer U)[]
  ? Known<U>[]
  : T extends object
    ? { [K in keyof T as string extends K ? never : K]: Known<T[K]> }
    : T;

/** `Sdk` itself, when every request of that type fits `Schema`; a type error otherwise. */
export type Fits<Schema, Sdk extends Known<Schema>> = Sdk;
