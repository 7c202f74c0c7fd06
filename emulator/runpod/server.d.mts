/** Types of server.mjs: the same API as the package entry. */
export * from "./index.mjs";
