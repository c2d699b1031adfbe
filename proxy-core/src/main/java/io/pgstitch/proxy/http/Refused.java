package io.pgstitch.proxy.http;

/** A request refused before anything ran: answered with its {@link HttpError}. Stackless: it is an answer. */
final class Refused extends RuntimeException {

    private static final long serialVersionUID = 1L;

    private final transient HttpError error;

    Refused(HttpError error) {
        super(error.message(), null, false, false);
        this.error = error;
    }

    HttpError error() {
        return error;
    }
}
