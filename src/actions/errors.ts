import { ENVIRONMENT, type EnvironmentName } from '../config/pipeline-config.ts';

/** An action was invoked on a function deployed without the setting it needs. */
export class ActionConfigError extends Error {
  constructor(action: string, variable: EnvironmentName) {
    super(`the ${action} action needs the environment variable ${variable}: ${ENVIRONMENT[variable]} The module sets it; set it when deploying the handler yourself.`);
    this.name = 'ActionConfigError';
  }
}
