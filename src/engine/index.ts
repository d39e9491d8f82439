/** The scenario engine: pure functions the workflow and the API share. */
export * from './types';
export { advance, initialState, initialData, DEFAULT_HELP_MESSAGE, DEFAULT_MAX_AUTO_TRANSITIONS } from './advance';
export { timeoutPolicy } from './timeouts';
export { validateScenario, validateScenarioText } from './validate';
export { renderTemplate, renderValue, formatValue, parseTemplate, templateReferences } from './templates';
export type { TemplatePart } from './templates';
export { parseCondition, evaluateCondition, conditionVariables, InvalidConditionError } from './conditions';
export type { ConditionNode, ConditionError, Operand, ParseConditionResult } from './conditions';
export { validateInput, matchButton, parseDate, parseEmail, parsePhone, DEFAULT_ERROR_MESSAGES } from './input';
export type { InputValidation } from './input';
export { parseDuration } from './durations';
export { scenarioSchema } from './schema';
export { matchTrigger, findTriggerClash, triggerKeys } from './triggers';
export type { TriggerKind, TriggerMatch } from './triggers';
export { runConversationSuite, SUITE_LIMITS } from './conversations';
export type { ConversationResult, ConversationTurnFailure, SuiteResult } from './conversations';
