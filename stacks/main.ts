import { App } from '../modules/cdk.ts';
import { loadStackSettings } from './config.ts';
import { FlatteningPipelineStack } from './pipeline-stack.ts';

/** `cdktf synth | diff | deploy` entry (cdktf.json "app"). Configuration: see stacks/config.ts. */
const app = new App();
const settings = loadStackSettings(process.env, app.node.tryGetContext('flatten'));
new FlatteningPipelineStack(app, settings.stackName, settings);
app.synth();
