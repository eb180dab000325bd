/** A configuration with a secret in every place a secret can be, and the secret values themselves. */
export const SECRETS = {
  urlPassword: 'Url-Pa55-xyz',
  mqttPassword: 'Mqtt-Pa55-abc',
  blePin: '428613',
  simPin: '975310',
  filePin: '864209',
};

export const YAML = `mqtt:
  url: mqtts://bob:${SECRETS.urlPassword}@broker.lan:8883
  username: bob
  password: !secret mqtt_password
chargers:
  - { id: garage, type: bs20, ble_name: "ACP#1", max_current: 16, pin: "${SECRETS.blePin}" }
  - { id: sim, type: bs20, transport: simulated, pin_file: pin.txt, simulator: { pin: "${SECRETS.simPin}" } }
`;
