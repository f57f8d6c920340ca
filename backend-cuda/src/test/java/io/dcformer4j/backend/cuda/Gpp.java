package io.dcformer4j.backend.cuda;

import java.io.IOException;
import java.util.concurrent.TimeUnit;

/** Whether g++ runs here: the CPU emulator of the kernels is compiled with it, and its tests skip without it. */
final class Gpp {
    private Gpp() {
    }

    static boolean installed() {
        try {
            Process p = new ProcessBuilder("g++", "--version").redirectErrorStream(true).start();
            p.getInputStream().readAllBytes();
            return p.waitFor(30, TimeUnit.SECONDS) && p.exitValue() == 0;
        } catch (IOException e) {
            return false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }
}
