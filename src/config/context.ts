/** What the schema needs from the outside world, injected so validation stays testable and pure. */
export interface SchemaContext {
  /** Folder of the config file; relative paths in the config are taken from here. */
  configDir: string;
  /** IANA zone used when `timezone` is not set. */
  systemTimezone: string;
  /** Checks referenced files (TLS certificates) without reading or creating anything. */
  fileExists: (absolutePath: string) => boolean;
}
