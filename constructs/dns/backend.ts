import { Construct } from 'constructs';
import { DnsRecordSet } from '../../render/dns-records';

/**
 * Where record sets are published. A new DNS service is one more file
 * implementing this: it turns each record set into its provider's resources.
 */
export interface IDnsBackend {
  /**
   * Declares the resources for one record set under `scope`. TXT strings are
   * raw text: whole values written into Terraform go through terraformText.
   */
  publish(scope: Construct, set: DnsRecordSet): void;
}

/** The record set's owner as a fully qualified name, without trailing dot. */
export const fqdnOf = (set: DnsRecordSet) => (set.name ? `${set.name}.${set.zone}` : set.zone);
