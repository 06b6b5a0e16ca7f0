/** Where the pipeline lives: the provider's partition, region and account (data sources in the module). */
export interface AwsLocation {
  readonly partition: string;
  readonly region: string;
  readonly account: string;
}

/** `arn:<partition>:<service>:<region>:<account>:<resource>`: an ARN built from names, known at plan time. */
export function arnIn(here: AwsLocation, service: string, resource: string): string {
  return `arn:${here.partition}:${service}:${here.region}:${here.account}:${resource}`;
}
