package io.dcformer4j.backend.cuda.launch;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/** The Java marshalling table must agree with the kernels' C signatures and with the kept PTX. */
class KernelSignatureTest {
    private static final Path CUDA_DIR = Path.of("src/main/cuda");
    private static final Pattern KERNEL = Pattern.compile(
            "extern\\s+\"C\"\\s+__global__\\s+void\\s+(?:__launch_bounds__\\([^)]*\\)\\s+)?(\\w+)\\s*\\(([^)]*)\\)",
            Pattern.DOTALL);

    /** Kernels declared in the .cu files, by module, with their parameters parsed from C. */
    static Map<String, KernelSpec> parseSources() throws IOException {
        Map<String, KernelSpec> out = new LinkedHashMap<>();
        try (Stream<Path> files = Files.list(CUDA_DIR)) {
            for (Path f : files.filter(p -> p.toString().endsWith(".cu")).sorted().toList()) {
                String module = f.getFileName().toString().replace(".cu", "");
                Matcher m = KERNEL.matcher(Files.readString(f));
                while (m.find()) {
                    List<Param> params = new ArrayList<>();
                    for (String p : m.group(2).split(",")) {
                        params.add(parseParam(p.strip().replaceAll("\\s+", " "), m.group(1)));
                    }
                    out.put(m.group(1), new KernelSpec(module, m.group(1), params));
                }
            }
        }
        return out;
    }

    static Param parseParam(String decl, String kernel) {
        Matcher m = Pattern.compile("^(.*?)(\\w+)$").matcher(decl);
        if (!m.matches()) {
            throw new AssertionError("cannot parse parameter '" + decl + "' of " + kernel);
        }
        String type = m.group(1).replace("__restrict__", "").replace("const ", "").strip();
        ArgType t;
        if (type.endsWith("*")) {
            t = ArgType.PTR;
        } else if (type.equals("int")) {
            t = ArgType.I32;
        } else if (type.equals("float")) {
            t = ArgType.F32;
        } else {
            throw new AssertionError("parameter type '" + type + "' of " + kernel + " has no marshalling rule");
        }
        return new Param(m.group(2), t);
    }

    @Test
    void theParserReadsPointerIntAndFloatParameters() {
        assertThat(parseParam("const unsigned short* w", "k")).isEqualTo(new Param("w", ArgType.PTR));
        assertThat(parseParam("float* __restrict__ y", "k")).isEqualTo(new Param("y", ArgType.PTR));
        assertThat(parseParam("int rows", "k")).isEqualTo(new Param("rows", ArgType.I32));
        assertThat(parseParam("float eps", "k")).isEqualTo(new Param("eps", ArgType.F32));
    }

    @Test
    void everyKernelInTheSourcesIsInTheTableWithTheSameParameters() throws IOException {
        Map<String, KernelSpec> sources = parseSources();
        assertThat(sources).hasSizeGreaterThanOrEqualTo(20);
        Map<String, KernelSpec> table = new LinkedHashMap<>();
        Kernels.all().forEach(k -> table.put(k.name(), k));
        assertThat(table.keySet()).containsExactlyInAnyOrderElementsOf(sources.keySet());
        for (KernelSpec src : sources.values()) {
            assertThat(table.get(src.name())).as("kernel " + src.name()).isEqualTo(src);
        }
    }

    @Test
    void theKeptPtxDeclaresEveryKernelWithItsParameterCount() throws IOException {
        for (KernelSpec k : Kernels.all()) {
            String ptx;
            try (InputStream in = getClass().getResourceAsStream("/io/dcformer4j/backend/cuda/ptx/" + k.module() + ".ptx")) {
                assertThat(in).as("PTX of " + k.module()).isNotNull();
                ptx = new String(in.readAllBytes(), StandardCharsets.US_ASCII);
            }
            Matcher m = Pattern.compile("\\.visible \\.entry " + k.name() + "\\(([^)]*)\\)", Pattern.DOTALL).matcher(ptx);
            assertThat(m.find()).as(".entry " + k.name() + " in " + k.module() + ".ptx").isTrue();
            String[] params = m.group(1).strip().split(",");
            assertThat(params).as("PTX parameters of " + k.name()).hasSize(k.params().size());
            for (int i = 0; i < params.length; i++) {
                String expected = switch (k.params().get(i).type()) {
                    case PTR -> ".u64";
                    case I32 -> ".u32";
                    case F32 -> ".f32";
                };
                assertThat(params[i]).as(k.name() + " parameter " + i).contains(".param " + expected);
            }
        }
    }
}
