/** Small scenarios the dialog-path tests share. */
export const bookingScenario = {
  version: '1.0',
  name: 'Table booking',
  start_step: 'welcome',
  settings: { help_message: 'Send /start to begin again.' },
  steps: {
    welcome: { id: 'welcome', type: 'message', message: { text: 'Welcome to Chez Anna!' }, next_step: 'ask_name' },
    ask_name: {
      id: 'ask_name',
      type: 'message',
      message: { text: 'Your name?' },
      expected_input: { type: 'text', variable: 'user_name', min_length: 2, error_message: 'At least two letters, please.' },
      next_step: 'ask_guests',
      checkpoint: true,
    },
    ask_guests: {
      id: 'ask_guests',
      type: 'message',
      message: { text: 'How many guests, {{user_name}}?' },
      expected_input: { type: 'number', variable: 'guests', min_value: 1, max_value: 20 },
      next_step: 'pick_time',
    },
    pick_time: {
      id: 'pick_time',
      type: 'message',
      message: { text: 'When?' },
      buttons: [
        { text: '18:00', value: '18' },
        { text: '20:00', value: '20' },
      ],
      expected_input: { type: 'button', variable: 'time' },
      next_step: 'confirm',
    },
    confirm: {
      id: 'confirm',
      type: 'action',
      action: { type: 'set_variable', variable: 'booked', value: true },
      message: { text: 'Booked for {{guests}} at {{time}}:00, {{user_name}}.' },
      next_step: null,
    },
  },
};
