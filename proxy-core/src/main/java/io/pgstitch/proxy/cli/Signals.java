package io.pgstitch.proxy.cli;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.lang.reflect.Constructor;
import java.lang.reflect.Method;
import java.lang.reflect.Proxy;

/**
 * POSIX signal hooks the JDK has no public API for: {@code sun.misc.Signal} of the jdk.unsupported module,
 * reached reflectively so that the build's "no javac warning" rule holds (javac 17 cannot silence its
 * internal-API warning otherwise).
 */
final class Signals {

    private static final Logger log = LoggerFactory.getLogger(Signals.class);

    private Signals() {
    }

    /**
     * Runs {@code action} on every SIGTERM and SIGINT instead of the JVM's immediate exit, so that the
     * first can start a graceful shutdown and a second can cut it short.
     */
    static void onTerminate(Runnable action) {
        for (String name : new String[] {"TERM", "INT"}) {
            handle(name, action);
        }
    }

    /** Runs {@code action} on every SIGHUP, where the platform has that signal. */
    static void onHangup(Runnable action) {
        try {
            handle("HUP", action);
        } catch (IllegalArgumentException e) {
            log.warn("SIGHUP is not available on this platform; reload through the file watcher only");
        }
    }

    /** {@code Signal.handle(new Signal(name), signal -> action.run())}. */
    private static void handle(String name, Runnable action) {
        try {
            Class<?> signalClass = Class.forName("sun.misc.Signal");
            Class<?> handlerClass = Class.forName("sun.misc.SignalHandler");
            Constructor<?> signal = signalClass.getConstructor(String.class);
            Object handler = Proxy.newProxyInstance(Signals.class.getClassLoader(), new Class<?>[] {handlerClass},
                    (proxy, method, args) -> {
                        if (method.getName().equals("handle")) {
                            action.run();
                            return null;
                        }
                        return method.getDeclaringClass() == Object.class ? method.invoke(action, args) : null;
                    });
            Method handle = signalClass.getMethod("handle", signalClass, handlerClass);
            handle.invoke(null, signal.newInstance(name), handler);
        } catch (java.lang.reflect.InvocationTargetException e) {
            if (e.getCause() instanceof IllegalArgumentException unknown) {
                throw unknown; // the platform has no such signal
            }
            throw new IllegalStateException("cannot install a handler for SIG" + name, e.getCause());
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException("this JVM has no sun.misc.Signal for SIG" + name, e);
        }
    }
}
