package io.pgstitch.conf;

import org.junit.jupiter.api.Test;

import java.net.Inet6Address;
import java.net.InetAddress;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class CidrTest {

    private static InetAddress ip(String literal) throws Exception {
        return InetAddress.getByName(literal);
    }

    /** An Inet6Address that keeps the ::ffff:a.b.c.d form, as InetAddress.getByName would not. */
    private static InetAddress mapped(int a, int b, int c, int d) throws Exception {
        byte[] bytes = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, (byte) 0xff, (byte) 0xff, (byte) a, (byte) b, (byte) c, (byte) d};
        return Inet6Address.getByAddress(null, bytes, -1);
    }

    @Test
    void ipv4Blocks() throws Exception {
        Cidr ten = Cidr.parse("10.0.0.0/8");
        assertThat(ten.contains(ip("10.255.1.2"))).isTrue();
        assertThat(ten.contains(ip("11.0.0.1"))).isFalse();
        assertThat(ten.contains(ip("::1"))).isFalse();
        Cidr odd = Cidr.parse("192.168.4.0/22");
        assertThat(odd.contains(ip("192.168.7.255"))).isTrue();
        assertThat(odd.contains(ip("192.168.8.0"))).isFalse();
        assertThat(odd.contains(ip("192.168.3.255"))).isFalse();
        assertThat(Cidr.parse("0.0.0.0/0").contains(ip("203.0.113.9"))).isTrue();
        assertThat(Cidr.parse("0.0.0.0/0").contains(ip("2001:db8::1"))).isFalse();
        Cidr single = Cidr.parse("127.0.0.1");
        assertThat(single).isEqualTo(Cidr.parse("127.0.0.1/32"));
        assertThat(single.contains(ip("127.0.0.1"))).isTrue();
        assertThat(single.contains(ip("127.0.0.2"))).isFalse();
        assertThat(single.toString()).isEqualTo("127.0.0.1/32");
    }

    @Test
    void ipv6Blocks() throws Exception {
        Cidr doc = Cidr.parse("2001:db8::/32");
        assertThat(doc.contains(ip("2001:db8:ffff::1"))).isTrue();
        assertThat(doc.contains(ip("2001:db9::1"))).isFalse();
        assertThat(doc.contains(ip("10.0.0.1"))).isFalse();
        assertThat(Cidr.parse("::1").contains(ip("::1"))).isTrue();
        assertThat(Cidr.parse("::1")).isEqualTo(Cidr.parse("::1/128"));
        assertThat(Cidr.parse("::/0").contains(ip("fe80::1"))).isTrue();
        assertThat(Cidr.parse("fe80::/10").contains(ip("febf::1"))).isTrue();
        assertThat(Cidr.parse("fe80::/10").contains(ip("fec0::1"))).isFalse();
    }

    @Test
    void ipv4MappedAddressesMatchIpv4Blocks() throws Exception {
        assertThat(mapped(10, 1, 2, 3)).isInstanceOf(Inet6Address.class);
        assertThat(Cidr.parse("10.0.0.0/8").contains(mapped(10, 1, 2, 3))).isTrue();
        assertThat(Cidr.parse("10.0.0.0/8").contains(mapped(11, 1, 2, 3))).isFalse();
        Cidr mappedBlock = Cidr.parse("::ffff:10.0.0.0/104");
        assertThat(mappedBlock).isEqualTo(Cidr.parse("10.0.0.0/8"));
        assertThat(mappedBlock.contains(ip("10.9.9.9"))).isTrue();
        assertThat(Cidr.parse("::ffff:192.0.2.1").contains(ip("192.0.2.1"))).isTrue();
        assertThat(Cidr.parse("::ffff:c000:201").contains(mapped(192, 0, 2, 1))).isTrue();
        assertThatThrownBy(() -> Cidr.parse("::ffff:10.0.0.0/64")).hasMessageContaining("at least 96");
    }

    @Test
    void badInputIsNamedAndNeverLookedUp() {
        assertThatThrownBy(() -> Cidr.parse("localhost")).hasMessage("\"localhost\" is not an IPv4 or IPv6 address");
        assertThatThrownBy(() -> Cidr.parse("10.0.0.256")).hasMessageContaining("not an IPv4 or IPv6 address");
        assertThatThrownBy(() -> Cidr.parse("10.0.1")).hasMessageContaining("not an IPv4 or IPv6 address");
        assertThatThrownBy(() -> Cidr.parse("010.0.0.1")).hasMessageContaining("not an IPv4 or IPv6 address");
        assertThatThrownBy(() -> Cidr.parse("10.0.0.0.0")).hasMessageContaining("not an IPv4 or IPv6 address");
        assertThatThrownBy(() -> Cidr.parse("")).hasMessageContaining("not an IPv4 or IPv6 address");
        assertThatThrownBy(() -> Cidr.parse("fe80::1%eth0")).hasMessageContaining("not an IPv4 or IPv6 address");
        assertThatThrownBy(() -> Cidr.parse("2001:db8:::1")).hasMessageContaining("not an IPv4 or IPv6 address");
        assertThatThrownBy(() -> Cidr.parse("10.0.0.0/33")).hasMessage("\"33\" is not a prefix length between 0 "
                + "and 32");
        assertThatThrownBy(() -> Cidr.parse("::/129")).hasMessageContaining("between 0 and 128");
        assertThatThrownBy(() -> Cidr.parse("10.0.0.0/-1")).hasMessageContaining("not a prefix length");
        assertThatThrownBy(() -> Cidr.parse("10.0.0.0/")).hasMessageContaining("not a prefix length");
        assertThatThrownBy(() -> Cidr.parse("10.0.0.0/8/8")).hasMessageContaining("not a prefix length");
        assertThatThrownBy(() -> Cidr.parse("10.0.0.0/99999999999")).hasMessageContaining("not a prefix length");
        assertThatThrownBy(() -> Cidr.parse("10.1.0.0/8")).hasMessage("\"10.1.0.0/8\" has bits set after the "
                + "prefix (did you mean 10.0.0.0/8?)");
        assertThatThrownBy(() -> Cidr.parse("2001:db8::1/32"))
                .hasMessageContaining("did you mean 2001:db8:0:0:0:0:0:0/32");
    }
}
