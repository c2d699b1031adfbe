package io.pgstitch.tls;

import org.bouncycastle.asn1.pkcs.PrivateKeyInfo;
import org.bouncycastle.cert.X509CertificateHolder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.jce.provider.BouncyCastleProvider;
import org.bouncycastle.openssl.PEMEncryptedKeyPair;
import org.bouncycastle.openssl.PEMException;
import org.bouncycastle.openssl.PEMKeyPair;
import org.bouncycastle.openssl.PEMParser;
import org.bouncycastle.openssl.jcajce.JcaPEMKeyConverter;
import org.bouncycastle.openssl.jcajce.JceOpenSSLPKCS8DecryptorProviderBuilder;
import org.bouncycastle.openssl.jcajce.JcePEMDecryptorProviderBuilder;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.pkcs.PKCS8EncryptedPrivateKeyInfo;
import org.bouncycastle.pkcs.PKCSException;

import java.io.IOException;
import java.io.Reader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.PrivateKey;
import java.security.Provider;
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.List;

/**
 * PEM certificate chains and private keys, through BouncyCastle: RSA and EC keys in PKCS#1 / SEC1
 * ("BEGIN RSA/EC PRIVATE KEY"), PKCS#8 ("BEGIN PRIVATE KEY") and encrypted PKCS#8 ("BEGIN ENCRYPTED PRIVATE
 * KEY", needs the passphrase). Errors name the file and what was wrong with it.
 */
public final class PemFiles {

    /** Used directly, not registered globally: encrypted PKCS#8 needs ciphers the JDK names differently. */
    private static final Provider BOUNCY_CASTLE = new BouncyCastleProvider();

    private PemFiles() {
    }

    public static CertificateAndKey load(Path certificateFile, Path keyFile, char[] passphrase) throws IOException {
        return new CertificateAndKey(readCertificates(certificateFile), readPrivateKey(keyFile, passphrase));
    }

    public static List<X509Certificate> readCertificates(Path file) throws IOException {
        List<X509Certificate> chain = new ArrayList<>();
        try (Reader reader = Files.newBufferedReader(file); PEMParser parser = new PEMParser(reader)) {
            JcaX509CertificateConverter converter = new JcaX509CertificateConverter();
            Object item;
            while ((item = parser.readObject()) != null) {
                if (item instanceof X509CertificateHolder holder) {
                    chain.add(converter.getCertificate(holder));
                }
            }
        } catch (CertificateException e) {
            throw new IOException(file + ": not a valid certificate: " + e.getMessage(), e);
        }
        if (chain.isEmpty()) {
            throw new IOException(file + ": no PEM certificate (BEGIN CERTIFICATE) found");
        }
        return chain;
    }

    public static PrivateKey readPrivateKey(Path file, char[] passphrase) throws IOException {
        try (Reader reader = Files.newBufferedReader(file); PEMParser parser = new PEMParser(reader)) {
            JcaPEMKeyConverter converter = new JcaPEMKeyConverter();
            Object item;
            while ((item = parser.readObject()) != null) {
                if (item instanceof PrivateKeyInfo info) {
                    return converter.getPrivateKey(info);
                }
                if (item instanceof PEMKeyPair pair) {
                    return converter.getPrivateKey(pair.getPrivateKeyInfo()); // the public part may be absent
                }
                if (item instanceof PKCS8EncryptedPrivateKeyInfo encrypted) {
                    requirePassphrase(file, passphrase);
                    return converter.getPrivateKey(encrypted.decryptPrivateKeyInfo(
                            new JceOpenSSLPKCS8DecryptorProviderBuilder().setProvider(BOUNCY_CASTLE).build(passphrase)));
                }
                if (item instanceof PEMEncryptedKeyPair encrypted) {
                    requirePassphrase(file, passphrase);
                    return converter.getPrivateKey(encrypted.decryptKeyPair(
                            new JcePEMDecryptorProviderBuilder().setProvider(BOUNCY_CASTLE).build(passphrase)).getPrivateKeyInfo());
                }
            }
        } catch (PKCSException | OperatorCreationException e) {
            throw new IOException(file + ": cannot decrypt the private key (wrong passphrase?)", e);
        } catch (PEMException e) {
            throw new IOException(file + ": not a valid private key: " + e.getMessage(), e);
        }
        throw new IOException(file + ": no PEM private key found");
    }

    private static void requirePassphrase(Path file, char[] passphrase) throws IOException {
        if (passphrase == null || passphrase.length == 0) {
            throw new IOException(file + ": the private key is encrypted and no passphrase is configured");
        }
    }
}
