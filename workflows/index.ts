export { dialogWorkflow } from './dialog';
export { mediaProcessingWorkflow } from './media';
