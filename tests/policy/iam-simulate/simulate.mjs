// Reads a JSON list of cases on stdin; prints a JSON list of verdicts on stdout.
// A case: {policy, action, resource, resourceAccount, principal (null: anonymous), context}.
// The policy is given as the resource policy of a request with no identity policy, and its
// own verdict (resourceAnalysis.result) is read: that is an endpoint policy's decision.
// (iam-simulate's vpcEndpointPolicies input ignores the Principal element, which endpoint
// policies use "to control which AWS principals can use the endpoint".)
import { anonymousPrincipal, runSimulation } from '@cloud-copilot/iam-simulate'

const VERDICTS = {
  Allowed: 'Allow',
  AllowedForAccount: 'Allow', // an account principal covers every principal of the account
  ExplicitlyDenied: 'ExplicitDeny',
  DeniedForAccount: 'ExplicitDeny',
  ImplicitlyDenied: 'ImplicitDeny'
}

let input = ''
for await (const chunk of process.stdin) input += chunk
const results = []
for (const c of JSON.parse(input)) {
  const response = await runSimulation(
    {
      request: {
        principal: c.principal ?? anonymousPrincipal,
        action: c.action,
        resource: { resource: c.resource, accountId: c.resourceAccount },
        contextVariables: c.context
      },
      identityPolicies: [],
      serviceControlPolicies: [],
      resourceControlPolicies: [],
      resourcePolicy: c.policy
    },
    {}
  )
  if (response.resultType === 'error') {
    results.push({ error: JSON.stringify(response.errors) })
  } else if (response.resultType !== 'single') {
    results.push({ error: `a ${response.resultType} result` })
  } else {
    const verdict = response.result.analysis.resourceAnalysis?.result
    results.push({ decision: VERDICTS[verdict] ?? verdict })
  }
}
process.stdout.write(JSON.stringify(results))
