package dev.distillery.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Map;
import org.junit.jupiter.api.Test;

class TlsSettingsTest {

    @Test
    void withoutCertificateNothingChanges() {
        assertEquals(Map.of(), TlsSettings.settings(null, null));
        assertEquals(Map.of(), TlsSettings.settings("", " "));
    }

    @Test
    void aCertificateAndKeyServeOnlyTlsOnTheUsualPorts() {
        Map<String, String> settings = TlsSettings.settings("/tls/tls.crt", " /tls/tls.key ");
        assertEquals("/tls/tls.crt", settings.get("quarkus.grpc.server.ssl.certificate"));
        assertEquals("/tls/tls.key", settings.get("quarkus.grpc.server.ssl.key"));
        assertEquals("/tls/tls.crt", settings.get("quarkus.tls.key-store.pem.distillery.cert"));
        assertEquals("/tls/tls.key", settings.get("quarkus.tls.key-store.pem.distillery.key"));
        assertEquals("${quarkus.http.port}", settings.get("quarkus.http.ssl-port"));
        assertEquals("${quarkus.http.test-port}", settings.get("quarkus.http.test-ssl-port"));
        assertEquals("disabled", settings.get("quarkus.http.insecure-requests"));
    }

    @Test
    void oneWithoutTheOtherIsRefused() {
        IllegalArgumentException noKey = assertThrows(IllegalArgumentException.class,
                () -> TlsSettings.settings("/tls/tls.crt", null));
        assertTrue(noKey.getMessage().contains("DISTILLERY_TLS_KEY) is not set"), noKey.getMessage());
        IllegalArgumentException noCert = assertThrows(IllegalArgumentException.class,
                () -> TlsSettings.settings("", "/tls/tls.key"));
        assertTrue(noCert.getMessage().contains("DISTILLERY_TLS_CERT) is not set"), noCert.getMessage());
    }
}
