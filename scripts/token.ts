/** `npm run token -- --account <id> [--role operator|viewer|admin] [--sub name] [--expires 30d]` */
import { parseArgs } from 'node:util';
import { ROLES, type Role, signToken } from '../api/auth';
import { loadConfig } from '../src/config';

const { values } = parseArgs({
  options: {
    account: { type: 'string', multiple: true },
    role: { type: 'string', default: 'operator' },
    sub: { type: 'string', default: 'developer' },
    expires: { type: 'string', default: '30d' },
  },
});
if (!ROLES.includes(values.role as Role)) {
  console.error(`--role must be one of ${ROLES.join(', ')}`);
  process.exit(2);
}
// Every token expires: the API refuses one without `exp`.
if (!/^[1-9]\d*[smhdwy]$/.test(values.expires)) {
  console.error('--expires must be a time span: a number with s, m, h, d, w or y (e.g. 12h, 30d)');
  process.exit(2);
}
if (!values.account?.length && values.role !== 'admin') {
  console.error('--account <id> is required (repeat it for several accounts)');
  process.exit(2);
}
const config = loadConfig();
console.log(signToken(config.jwtSecret, { sub: values.sub, role: values.role as Role, account_ids: values.account ?? [] }, values.expires as `${number}d`));
