/** The input a certificate function rejected; lets callers such as the CLI map it back to a flag. */
export type CertificateInputField =
  'service' | 'namespace' | 'ips' | 'validityDays' | 'validitySeconds' | 'commonName' | 'now' | 'ca';

/**
 * A caller-supplied value the certificate functions cannot use. It is still a plain `Error` (the message names
 * the bad value and what is accepted); `field` says which input was wrong so a CLI can name its flag.
 */
export class CertificateInputError extends Error {
  override name = 'CertificateInputError';

  constructor(
    readonly field: CertificateInputField,
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}
