package io.pgstitch.proxy.rpc;

import io.netty.buffer.ByteBuf;

import java.util.List;

/**
 * What an RPC connection owes in answer to one {@link RpcCall}, and which of those answers are not the client's:
 * a ReadyForQuery per query of the preamble (of whose errors only the first shows), the ParseComplete of a Parse
 * the proxy replayed and the CloseComplete of its own Close; for a call ended by a Flush, how many answers are left
 * before it is over. Counted apart from the call's phases, so that each reads on its own. Session loop only.
 */
final class CallAnswers {

    private int preambleLeft;
    private boolean preambleFailed;
    private int parsesToSwallow;
    private int clientClosesLeft;
    private int closesToSwallow;
    private int answersLeft;

    /** @param preambleQueries how many queries the connection runs before {@code call} */
    CallAnswers(int preambleQueries, StitchStep.OnRpc call) {
        preambleLeft = preambleQueries;
        parsesToSwallow = call.injectedParses();
        closesToSwallow = call.injectedCloses();
        clientClosesLeft = count(call.messages(), "C") - closesToSwallow;
        answersLeft = count(call.messages(), "PBDEC");
    }

    /** How many of {@code messages} have one of {@code types}. */
    private static int count(List<ByteBuf> messages, String types) {
        int count = 0;
        for (ByteBuf message : messages) {
            if (types.indexOf(message.getByte(message.readerIndex())) >= 0) {
                count++;
            }
        }
        return count;
    }

    /** Takes note of an error of the preamble: true for the first, the one the client sees. */
    boolean firstPreambleError() {
        if (preambleFailed) {
            return false;
        }
        preambleFailed = true;
        return true;
    }

    boolean preambleFailed() {
        return preambleFailed;
    }

    /** Takes note of a ReadyForQuery of the preamble: true for the last. */
    boolean preambleAnswered() {
        return --preambleLeft == 0;
    }

    /**
     * Takes note of a frame of the call's answer of {@code type}: true when it is the ParseComplete of a Parse the
     * proxy replayed or the CloseComplete of the proxy's own Close (last before the Sync), which the client never
     * sent.
     */
    boolean swallows(byte type) {
        if (type == '1' && parsesToSwallow > 0) {
            parsesToSwallow--;
            return true;
        }
        if (type == '3' && clientClosesLeft > 0) {
            clientClosesLeft--;
            return false;
        }
        if (type == '3' && closesToSwallow > 0) {
            closesToSwallow--;
            return true;
        }
        return false;
    }

    /**
     * Takes note of a frame of {@code type} of a call ended by a Flush: true when it is the last answer to its
     * extended-protocol messages (a Describe's ParameterDescription is none).
     */
    boolean lastAnswer(byte type) {
        return "123TnCsI".indexOf(type) >= 0 && --answersLeft == 0;
    }
}
