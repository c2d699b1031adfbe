package io.pgstitch.it.support;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/**
 * Mutations of a recorded session, all drawn from one {@link Random} so that a seed gives the same bytes again:
 * first up to two on the message list (a message duplicated, dropped, moved, its length field or type byte
 * replaced, a message of another session spliced in), then up to two on the bytes (bits flipped, bytes inserted
 * or deleted, an Int32 overwritten, the stream cut short); at least one in all.
 */
public final class Mutator {

    /** Length-field values that sit on the edges decoders get wrong. */
    private static final int[] LENGTHS = {0, 1, 3, 4, 5, 7, 8, 9, 10_000, 10_001, 65_535, 65_536, 0x3fff_fffe,
            0x3fff_ffff, 0x4000_0000, Integer.MAX_VALUE, -1, Integer.MIN_VALUE};
    private static final int[] INTS = {0, 1, -1, 2, 0x7fff, 0x8000, 0xffff, 65_536, Integer.MAX_VALUE,
            Integer.MIN_VALUE, 196_608, 80_877_102, 80_877_103};
    /** Frontend types, and a few that are not. */
    private static final byte[] TYPES = "BCdcfDEHFPpQSX!\0\u007f".getBytes(StandardCharsets.ISO_8859_1);
    private static final int[] EDGE_BYTES = {0, 0xff, 0x7f, 0x80};

    /** The mutated bytes and what was done, for the report of a failure. */
    public record Mutant(byte[] bytes, List<String> steps) {
    }

    private final Random random;

    public Mutator(Random random) {
        this.random = random;
    }

    public Mutant mutate(RecordedSession session, List<RecordedSession> others) {
        List<byte[]> messages = new ArrayList<>(session.messages());
        List<String> steps = new ArrayList<>();
        int structural = random.nextInt(3);
        int bytewise = random.nextInt(3);
        if (structural + bytewise == 0) {
            bytewise = 1;
        }
        for (int i = 0; i < structural && !messages.isEmpty(); i++) {
            steps.add(mutateMessages(messages, others));
        }
        byte[] bytes = Wire.concat(messages.toArray(byte[][]::new));
        for (int i = 0; i < bytewise; i++) {
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            steps.add(mutateBytes(bytes, out));
            bytes = out.toByteArray();
        }
        return new Mutant(bytes, steps);
    }

    private String mutateMessages(List<byte[]> messages, List<RecordedSession> others) {
        int index = random.nextInt(messages.size());
        byte[] message = messages.get(index);
        boolean untyped = index == 0; // the startup packet has no type byte
        switch (random.nextInt(7)) {
            case 0 -> {
                int times = random.nextInt(10) == 0 ? 50 + random.nextInt(200) : 1 + random.nextInt(3);
                for (int i = 0; i < times; i++) {
                    messages.add(index, message);
                }
                return "message " + index + " duplicated " + times + " times";
            }
            case 1 -> {
                messages.remove(index);
                return "message " + index + " dropped";
            }
            case 2 -> {
                int to = random.nextInt(messages.size());
                messages.add(to, messages.remove(index));
                return "message " + index + " moved to " + to;
            }
            case 3 -> {
                int length = LENGTHS[random.nextInt(LENGTHS.length)];
                if (random.nextBoolean()) {
                    length = (untyped ? message.length : message.length - 1) + random.nextInt(7) - 3;
                }
                byte[] changed = message.clone();
                ByteBuffer.wrap(changed).putInt(untyped ? 0 : 1, length);
                messages.set(index, changed);
                return "message " + index + " length field set to " + length;
            }
            case 4 -> {
                if (untyped) {
                    return mutateMessages(messages, others);
                }
                byte type = random.nextBoolean() ? TYPES[random.nextInt(TYPES.length)] : (byte) random.nextInt(256);
                byte[] changed = message.clone();
                changed[0] = type;
                messages.set(index, changed);
                return "message " + index + " type set to 0x" + Integer.toHexString(type & 0xFF);
            }
            case 5 -> {
                RecordedSession other = others.get(random.nextInt(others.size()));
                int from = 1 + random.nextInt(Math.max(1, other.messages().size() - 1));
                byte[] spliced = other.messages().get(Math.min(from, other.messages().size() - 1));
                int at = 1 + random.nextInt(messages.size());
                messages.add(Math.min(at, messages.size()), spliced);
                return "message " + from + " of " + other.name() + " inserted at " + at;
            }
            default -> {
                int other = random.nextInt(messages.size());
                messages.set(index, messages.get(other));
                messages.set(other, message);
                return "messages " + index + " and " + other + " swapped";
            }
        }
    }

    private String mutateBytes(byte[] bytes, ByteArrayOutputStream out) {
        if (bytes.length == 0) {
            out.write(random.nextInt(256));
            return "one byte sent instead of nothing";
        }
        int at = random.nextInt(bytes.length);
        switch (random.nextInt(5)) {
            case 0 -> {
                byte[] changed = bytes.clone();
                int flips = 1 + random.nextInt(4);
                StringBuilder where = new StringBuilder();
                for (int i = 0; i < flips; i++) {
                    int position = i == 0 ? at : random.nextInt(bytes.length);
                    int bit = random.nextInt(8);
                    changed[position] ^= (byte) (1 << bit);
                    where.append(i == 0 ? "" : ", ").append(position).append('.').append(bit);
                }
                out.writeBytes(changed);
                return "bits flipped at " + where;
            }
            case 1 -> {
                int count = 1 + random.nextInt(8);
                out.write(bytes, 0, at);
                for (int i = 0; i < count; i++) {
                    boolean edge = random.nextBoolean();
                    out.write(edge ? EDGE_BYTES[random.nextInt(EDGE_BYTES.length)] : random.nextInt(256));
                }
                out.write(bytes, at, bytes.length - at);
                return count + " bytes inserted at " + at;
            }
            case 2 -> {
                int count = Math.min(1 + random.nextInt(8), bytes.length - at);
                out.write(bytes, 0, at);
                out.write(bytes, at + count, bytes.length - at - count);
                return count + " bytes deleted at " + at;
            }
            case 3 -> {
                int value = INTS[random.nextInt(INTS.length)];
                byte[] changed = bytes.clone();
                for (int i = 0; i < 4 && at + i < changed.length; i++) {
                    changed[at + i] = (byte) (value >>> (24 - 8 * i));
                }
                out.writeBytes(changed);
                return "Int32 " + value + " written at " + at;
            }
            default -> {
                out.write(bytes, 0, at);
                return "cut to " + at + " of " + bytes.length + " bytes";
            }
        }
    }
}
