// cpikey: get an OAuth 2.0 access token (grant client_credentials) with the
// environment's clientId, clientSecret and tokenUrl (or, for a certificate
// key, the client certificate Postman presents), keep it in collection
// variables until a minute before it expires, and send it as
// "Authorization: Bearer". Runs in the Postman app and in newman alike.
// A request with an authorization of its own (not "Inherit" or "No Auth")
// is left alone; an authorization set on the collection, such as Postman's
// OAuth 2.0 helper, replaces this header when the request is sent.
(function () {
    var auth = pm.request.auth;
    if (auth && auth.type && auth.type !== 'noauth') {
        return;
    }
    var tokenUrl = pm.variables.get('tokenUrl');
    var clientId = pm.variables.get('clientId');
    var clientSecret = pm.variables.get('clientSecret');
    // A certificate key's environment names its certificate file instead of
    // a secret: Postman presents the certificate set for the token host
    // (Settings > Certificates; newman --ssl-client-cert/--ssl-client-key).
    var certFile = pm.variables.get('certFile');
    var missing = [];
    if (!tokenUrl) { missing.push('tokenUrl'); }
    if (!clientId) { missing.push('clientId'); }
    if (!clientSecret && !certFile) { missing.push('clientSecret'); }
    if (missing.length > 0) {
        fail('no value for ' + missing.join(', ') + ': select the environment that cpikey export --format postman wrote ' +
            '(an export without the secret in the keychain has an empty clientSecret: fill it in)');
        return;
    }

    // The cached token belongs to one key: another environment's key
    // fetches its own.
    var owner = clientId + ' ' + tokenUrl;
    var cached = pm.collectionVariables.get('accessToken');
    var expiresAt = Number(pm.collectionVariables.get('accessTokenExpiresAt')) || 0;
    if (cached && pm.collectionVariables.get('accessTokenOwner') === owner && Date.now() < expiresAt - 60 * 1000) {
        useToken(cached);
        return;
    }

    // SAP's token endpoint (XSUAA): client id and secret as HTTP Basic,
    // grant_type in a form body; with a certificate (mTLS) the client id
    // goes in the body.
    var header = [{ key: 'Accept', value: 'application/json' }];
    var form = [{ key: 'grant_type', value: 'client_credentials' }];
    if (clientSecret) {
        var CryptoJS = require('crypto-js');
        var basic = CryptoJS.enc.Base64.stringify(CryptoJS.enc.Utf8.parse(clientId + ':' + clientSecret));
        header.unshift({ key: 'Authorization', value: 'Basic ' + basic });
    } else {
        form.push({ key: 'client_id', value: clientId });
    }
    pm.sendRequest({
        url: tokenUrl,
        method: 'POST',
        header: header,
        body: { mode: 'urlencoded', urlencoded: form }
    }, function (err, res) {
        if (err) {
            fail('the token request to ' + tokenUrl + ' failed: ' + err.message +
                (certFile ? ' (a certificate key: add its certificate and key files for this host in Settings > Certificates)' : ''));
            return;
        }
        var body = {};
        try { body = res.json() || {}; } catch (e) { body = {}; }
        if (res.code !== 200 || typeof body.access_token !== 'string' || body.access_token === '') {
            var why = [body.error, body.error_description].filter(Boolean).join(': ').slice(0, 200);
            var next = res.code === 401 ?
                'check clientId, clientSecret and tokenUrl in the environment; a rotated or deleted key needs a new export' :
                'check tokenUrl in the environment';
            fail('the token endpoint answered HTTP ' + res.code + (why ? ' (' + why + ')' : '') + ': ' + next);
            return;
        }
        var lifetime = Number(body.expires_in) || 0;
        pm.collectionVariables.set('accessToken', body.access_token);
        pm.collectionVariables.set('accessTokenExpiresAt', String(Date.now() + lifetime * 1000));
        pm.collectionVariables.set('accessTokenOwner', owner);
        useToken(body.access_token);
    });

    function useToken(token) {
        pm.request.headers.upsert({ key: 'Authorization', value: 'Bearer ' + token });
    }

    // fail records a failed test (newman exits 1, Postman shows it under
    // Test Results) and skips the request, which could only answer 401.
    function fail(message) {
        pm.test('cpikey: an access token for the request', function () {
            throw new Error(message);
        });
        if (pm.execution && typeof pm.execution.skipRequest === 'function') {
            pm.execution.skipRequest();
        }
    }
})();
