/** A PEM certificate and the PEM private key that belongs to it: what the CA and the serving cert each are. */
export interface KeyPairPem {
  certPem: string;
  keyPem: string;
}
