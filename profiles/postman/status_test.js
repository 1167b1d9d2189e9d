// cpikey: the call worked when the tenant answered 2xx; otherwise say why
// it most likely did not (SAP Cloud Integration's usual answers).
pm.test('HTTP status is 2xx', function () {
    var code = pm.response.code;
    var hint = '';
    if (code === 401) {
        hint = 'the tenant refused the token: missing, expired, or from another subaccount';
    } else if (code === 403 && /required/i.test(pm.response.headers.get('X-CSRF-Token') || '')) {
        hint = 'the sender adapter is CSRF protected: switch CSRF protection off for this client, or fetch a token with X-CSRF-Token: Fetch first';
    } else if (code === 403) {
        hint = 'the key lacks the role this endpoint needs (the sender\'s User Role, or the API role); role changes take up to an hour';
    } else if (code === 404) {
        hint = 'nothing is deployed at this address: check the collection variable endpoint (HTTPS senders are under /http, SOAP under /cxf) and that the iFlow is started';
    } else if (code >= 500) {
        hint = 'the iFlow ran and failed; its message processing log id: ' + (pm.response.headers.get('SAP_MessageProcessingLogID') || 'not in the answer');
    }
    pm.expect(code, 'HTTP ' + code + (hint ? ': ' + hint : '')).to.be.within(200, 299);
});
