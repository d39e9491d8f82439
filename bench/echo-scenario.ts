/**
 * The bench's scenario: every message is input to the one step, which answers with what it got, so
 * each message has one reply, and the reply names the message.
 */
export const echoScenario = {
  version: '1.0',
  name: 'bench echo',
  start_step: 'echo',
  variables: { said: { type: 'string', default: 'start' } },
  steps: {
    echo: {
      id: 'echo',
      type: 'message',
      message: { text: 'Got {{said}}' },
      expected_input: { type: 'text', variable: 'said' },
      next_step: 'echo',
    },
  },
};
