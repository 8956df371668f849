// Drives the hotline's Open311 GeoReport v2 endpoint with a third-party client: the npm package "open311"
// (Code for America's node-open311, 0.0.12). The client finds the endpoint through Service Discovery (it keeps
// the endpoint whose specification is GeoReport v2 and whose type is production), reads the service list and a
// service definition, creates requests with POST (form-encoded, api_key, attribute[code] fields) in JSON and in
// XML (its XML reader is xml2json), and reads a request back. Prints what the client returned, as JSON, for
// tests/integration/test_open311.py to check against the spec; exits 1 with the client's error otherwise.
//
// usage: node check.js DISCOVERY_URL API_KEY SERVICE_CODE
"use strict";

const Open311 = require("open311");

const [discoveryUrl, apiKey, serviceCode] = process.argv.slice(2);

function call(fn) {
  return new Promise((resolve, reject) => {
    fn((err, data) => (err ? reject(new Error(`${err}: ${JSON.stringify(data)}`)) : resolve(data)));
  });
}

const REQUEST = {
  service_code: serviceCode,
  description: "凌晨工地施工噪音扰民",
  address_string: "龙华区金贸街道玉沙路",
  phone: "13876543210",
  first_name: "明",
  last_name: "王",
  jurisdiction_id: "haikou.gov.cn",
  attributes: { confidential: "true" },
};

async function main() {
  const out = {};
  const discovering = new Open311({ discovery: discoveryUrl });
  out.discovery = await call((cb) => discovering.serviceDiscovery({ cache: true }, cb));
  out.endpoint = discovering.endpoint;
  const json = new Open311({ endpoint: discovering.endpoint, format: "json", apiKey });
  out.services = await call((cb) => json.serviceList(cb));
  out.definition = await call((cb) => json.serviceDefinition(serviceCode, cb));
  out.created = await call((cb) => json.submitRequest(REQUEST, cb));
  const xml = new Open311({ endpoint: discovering.endpoint, format: "xml", apiKey });
  out.created_xml = await call((cb) => xml.submitRequest({ ...REQUEST, attributes: {} }, cb));
  out.read_back = await call((cb) => json.serviceRequests(out.created[0].service_request_id, cb));
  process.stdout.write(JSON.stringify(out));
}

main().catch((err) => {
  process.stderr.write(`${err.stack || err}\n`);
  process.exit(1);
});
