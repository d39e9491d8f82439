export { dialogWorkflow } from './dialog';
