using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Net.Sockets;
using GraphGen.Checkpoints;
using GraphGen.Tests.Checkpoints;
using GraphGen.Tests.Cli;
using GraphGen.Tests.Guarantees;
using Xunit;
using Xunit.Abstractions;

namespace GraphGen.Tests.Faults;

/// <summary>One lenet process run to its end, or killed.</summary>
internal sealed record ChildRun(string Command, int Code, string Out, string Err)
{
    public string[] ErrLines => Err.Replace("\r", "").Split('\n', StringSplitOptions.RemoveEmptyEntries);
    public override string ToString() => $"{Command}\nexit {Code}\n--- stdout ---\n{Out}\n--- stderr ---\n{Err}";
}

/// <summary>Runs the lenet sample (lenet.dll, copied beside the tests) as a child process, with the fault-injection
/// startup hook loaded (see <see cref="StartupHook"/>).</summary>
internal static class Child
{
    /// <summary>Exit code of a process killed by SIGKILL, as .NET reports it.</summary>
    public const int Killed = 128 + 9;

    // Not a timing assertion: a run that has not ended after this long hangs (e.g. on a FIFO); kill it and say so.
    private static readonly TimeSpan HangLimit = TimeSpan.FromMinutes(3);

    private static string Dotnet => Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host ? host : "dotnet";

    public static ChildRun Run(string[] args, string? failpoint = null, TimeSpan? killAfter = null)
    {
        var start = new ProcessStartInfo(Dotnet) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        start.ArgumentList.Add("exec");
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "lenet.dll"));
        foreach (string a in args) start.ArgumentList.Add(a);
        start.Environment["DOTNET_STARTUP_HOOKS"] = typeof(StartupHook).Assembly.Location;
        start.Environment.Remove(StartupHook.Variable);
        if (failpoint is not null) start.Environment[StartupHook.Variable] = failpoint;
        string command = "lenet " + string.Join(" ", args) + (failpoint is null ? "" : $"  [{StartupHook.Variable}={failpoint}]");

        using Process p = Process.Start(start)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        if (killAfter is { } delay && !p.WaitForExit(delay)) p.Kill(); // SIGKILL
        if (!p.WaitForExit(HangLimit))
        {
            p.Kill(entireProcessTree: true);
            p.WaitForExit();
            throw new Xunit.Sdk.XunitException($"{command} did not end within {HangLimit.TotalMinutes} minutes: it hangs\n{stdout.Result}\n{stderr.Result}");
        }
        p.WaitForExit();
        return new ChildRun(command, p.ExitCode, stdout.Result, stderr.Result);
    }
}

/// <summary>A tmpfs mounted on a fresh directory, unmounted on dispose; null where this process may not mount one.</summary>
internal sealed class Tmpfs : IDisposable
{
    public string Path { get; }

    private Tmpfs(string path) => Path = path;

    public static Tmpfs? TryMount(string path, string options, out string? whyNot)
    {
        Directory.CreateDirectory(path);
        whyNot = null;
        if (!OperatingSystem.IsLinux()) { whyNot = "tmpfs is Linux's"; return null; }
        var (code, output) = Tool("mount", "-t", "tmpfs", "-o", options, "tmpfs", path);
        if (code == 0) return new Tmpfs(path);
        whyNot = $"'mount -t tmpfs' failed (exit {code}: {output.Trim()}); it needs root or CAP_SYS_ADMIN";
        return null;
    }

    public void Remount(string options)
    {
        var (code, output) = Tool("mount", "-o", "remount," + options, Path);
        if (code != 0) throw new IOException($"remount {Path} {options} failed: {output}");
    }

    public void Dispose() => Tool("umount", "-l", Path);

    public static (int Code, string Output) Tool(string file, params string[] args)
    {
        var start = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (string a in args) start.ArgumentList.Add(a);
        try
        {
            using Process p = Process.Start(start)!;
            string output = p.StandardOutput.ReadToEnd() + p.StandardError.ReadToEnd();
            p.WaitForExit();
            return (p.ExitCode, output);
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            return (-1, e.Message);
        }
    }
}

/// <summary>The uninterrupted run every interrupted one must end up equal to, and where each file-system call of its
/// saves falls (from a run with the logging failpoint).</summary>
public sealed class FaultScenario : IDisposable
{
    internal ScratchDir Dir { get; } = new();
    internal string Data { get; }
    internal byte[] Reference { get; }
    internal TimeSpan ReferenceTime { get; }

    /// <summary>Every file-system call of every atomic write of the run: (1-based call number, step, target).</summary>
    internal IReadOnlyList<(int Call, string Step, string Target)> Calls { get; }

    /// <summary>The calls of each save of the checkpoint, in order: the probe before training, then epochs 1, 2 and 3.</summary>
    internal IReadOnlyList<(int Call, string Step)[]> CheckpointSaves { get; }

    public FaultScenario()
    {
        Data = SyntheticData.Create(Dir.File("data"), train: 320, test: 64, seed: 3);
        var clock = Stopwatch.StartNew();
        ChildRun reference = Child.Run(Args(Dir.File("reference")));
        ReferenceTime = clock.Elapsed;
        if (reference.Code != 0) throw new InvalidOperationException(reference.ToString());
        Reference = File.ReadAllBytes(Checkpoint(Dir.File("reference")));

        string log = Dir.File("calls.log");
        ChildRun logged = Child.Run(Args(Dir.File("logged")), "log:" + log);
        if (logged.Code != 0) throw new InvalidOperationException(logged.ToString());
        if (!File.ReadAllBytes(Checkpoint(Dir.File("logged"))).AsSpan().SequenceEqual(Reference))
            throw new InvalidOperationException("the logging failpoint changed the checkpoint");
        Calls = File.ReadAllLines(log).Select(l => l.Split(' ', 3)).Select(f => (int.Parse(f[0], CultureInfo.InvariantCulture), f[1], f[2])).ToArray();
        string target = Checkpoint(Dir.File("logged"));
        var saves = new List<(int, string)[]>();
        foreach (var (call, step, file) in Calls.Where(c => c.Target == target))
        {
            if (step == "create") saves.Add([]);
            saves[^1] = [.. saves[^1], (call, step)];
        }
        CheckpointSaves = saves;
        if (saves.Count != 4) throw new InvalidOperationException($"expected a probe and 3 saves of {target}, found {saves.Count}: {string.Join(", ", Calls)}");
    }

    internal string[] Args(string work, params string[] more)
    {
        Directory.CreateDirectory(work);
        return new[]
        {
            "train", "--epochs", "3", "--checkpoint-every", "1", "--batch-size", "64", "--threads", "1", "--seed", "5",
            "--data-dir", Data, "--no-install", "--save", Checkpoint(work), "--out", System.IO.Path.Combine(work, "out"),
        }.Concat(more).ToArray();
    }

    internal static string Checkpoint(string work) => System.IO.Path.Combine(work, "ck.st");

    public void Dispose() => Dir.Dispose();
}

[CollectionDefinition(Name)]
public sealed class FaultCollection : ICollectionFixture<FaultScenario>
{
    public const string Name = "fault injection (lenet child processes)";
}

/// <summary>
/// The "keep finding them" harness of issue 12: lenet runs as a child process and is killed with SIGKILL at every
/// file-system call of a checkpoint save and at random moments, then resumed; it meets a full file system, a read-only
/// one, links and special files. Each test prints what it ran (dotnet test --logger "console;verbosity=detailed").
/// GRAPHGEN_FAULT_CASES=N runs every call of every save and N random kills instead of the default sample.
/// </summary>
[Collection(FaultCollection.Name)]
public sealed class FaultInjectionTests(FaultScenario scenario, ITestOutputHelper output)
{
    private static int Extended => int.TryParse(Environment.GetEnvironmentVariable("GRAPHGEN_FAULT_CASES"), out int n) && n > 0 ? n : 0;

    private static string[] Temporaries(string directory) =>
        Directory.GetFiles(directory).Where(f => Path.GetFileName(f).Contains(".tmp-", StringComparison.Ordinal)).ToArray();

    /// <summary>After a kill: the checkpoint is absent or whole (it loads, checksum included); a resume (or a fresh run
    /// where none was written) ends byte-identical to the uninterrupted run and leaves no temporary file.
    /// Returns the epoch the killed run had saved (0: none).</summary>
    private int CheckRecovery(string work, ChildRun killed)
    {
        string checkpoint = FaultScenario.Checkpoint(work);
        int epoch = 0;
        if (File.Exists(checkpoint))
        {
            using var net = new Nets.LeNet(new NetworkOptions { Threads = 1, MaxBatch = 64 });
            IReadOnlyDictionary<string, string> meta;
            try { meta = GraphGen.Checkpoints.Checkpoint.Load(net, checkpoint); }
            catch (CheckpointException e) { throw new Xunit.Sdk.XunitException($"the kill left a damaged checkpoint: {e.Message}\n{killed}"); }
            epoch = int.Parse(meta["graphgen.epoch"], CultureInfo.InvariantCulture);
        }
        ChildRun resumed = Child.Run(epoch > 0 ? scenario.Args(work, "--resume", checkpoint) : scenario.Args(work));
        Assert.True(resumed.Code == 0, $"after\n{killed}\nthe resume failed:\n{resumed}");
        Assert.True(File.ReadAllBytes(checkpoint).AsSpan().SequenceEqual(scenario.Reference),
            $"the resumed run's checkpoint differs from the uninterrupted run's\nkilled: {killed}\nresumed: {resumed}");
        Assert.Empty(Temporaries(work));
        return epoch;
    }

    [Fact]
    public void KillAtEachFileSystemCallOfASave_LosesNothing()
    {
        // Every call of the epoch-2 save (which replaces epoch 1's file) in the default sample: its first and last
        // writes, and each other kind of call; with GRAPHGEN_FAULT_CASES every call of the probe and of all three saves.
        (int Call, string Step)[] save = scenario.CheckpointSaves[2];
        (int Call, string Step)[] writes = save.Where(c => c.Step == "write").ToArray();
        var points = Extended > 0
            ? scenario.CheckpointSaves.SelectMany(s => s).ToArray()
            : save.Where(c => c.Step != "write").Concat([writes[0], writes[^1]]).OrderBy(c => c.Call).ToArray();
        var found = new List<string>();
        foreach (var (call, step) in points)
        {
            string work = scenario.Dir.File($"kill-at-{call}");
            ChildRun killed = Child.Run(scenario.Args(work), $"kill:{call}");
            Assert.True(killed.Code == Child.Killed, $"expected the failpoint to kill the run at call {call} ({step})\n{killed}");
            int epoch = CheckRecovery(work, killed);
            if (Array.IndexOf(save, (call, step)) >= 0) Assert.True(epoch == 1, $"killed before call {call} ({step}) of the epoch-2 save, the file holds epoch {epoch}, not 1");
            found.Add($"{step}#{call}→epoch {epoch}");
        }
        output.WriteLine($"kill -9 at file-system calls of a save: {points.Length} cases ({string.Join(", ", found)}); " +
            "every checkpoint left was whole, every resume ended byte-identical to the uninterrupted run, no temporary file survived");
    }

    [Fact]
    public void KillAtRandomMoments_LosesNothing()
    {
        int cases = Extended > 0 ? Extended : 3;
        var random = new Random(20261129);
        var found = new List<string>();
        for (int i = 0; i < cases; i++)
        {
            // Anywhere from process start to the end of an uninterrupted run (start-up, data loading, training, saves, reports).
            var delay = TimeSpan.FromSeconds(random.NextDouble() * scenario.ReferenceTime.TotalSeconds);
            string work = scenario.Dir.File($"random-{i}");
            ChildRun killed = Child.Run(scenario.Args(work), killAfter: delay);
            int epoch = CheckRecovery(work, killed);
            found.Add(string.Create(CultureInfo.InvariantCulture, $"{delay.TotalSeconds:F2} s→{(killed.Code == Child.Killed ? $"epoch {epoch}" : "finished first")}"));
        }
        output.WriteLine($"kill -9 at random moments (uninterrupted run {scenario.ReferenceTime.TotalSeconds:F1} s): {cases} cases ({string.Join(", ", found)}); all resumed byte-identically");
    }

    [SkippableFact]
    public void FullFileSystem_KeepsTheLastCheckpoint_AndRescuesTheNewOne()
    {
        // Room for one checkpoint (about 184 KB) and its probe, not for a second beside it during the replacing rename.
        using Tmpfs? disk = Tmpfs.TryMount(scenario.Dir.File("full"), "size=300k", out string? whyNot);
        Skip.If(disk is null, whyNot);
        string work = scenario.Dir.File("full-work");
        string[] args = scenario.Args(work).Select(a => a == FaultScenario.Checkpoint(work) ? Path.Combine(disk!.Path, "ck.st") : a).ToArray();
        ChildRun r = Child.Run(args);
        Assert.True(r.Code == 1 && r.ErrLines.Length == 1, r.ToString());
        string line = r.ErrLines[0];
        Assert.StartsWith($"lenet: cannot write {Path.Combine(disk!.Path, "ck.st")}: no space left on the device; the network after epoch 2 was saved to ", line);
        string rescue = line.Split(" was saved to ")[1].Split(" instead")[0];
        Assert.StartsWith(Path.Combine(work, "out", "lenet-rescue-epoch2-"), rescue);
        Assert.DoesNotContain(".tmp-", line);

        using var net = new Nets.LeNet(new NetworkOptions { Threads = 1, MaxBatch = 64 });
        Assert.Equal("1", GraphGen.Checkpoints.Checkpoint.Load(net, Path.Combine(disk.Path, "ck.st"))["graphgen.epoch"]);
        Assert.Equal(["ck.st"], Directory.GetFileSystemEntries(disk.Path).Select(Path.GetFileName));
        Assert.Equal("2", GraphGen.Checkpoints.Checkpoint.Load(net, rescue)["graphgen.epoch"]);

        // The rescued network resumes to the uninterrupted result.
        string resumed = Path.Combine(work, "resumed.st");
        string[] resume = scenario.Args(work).Select(a => a == FaultScenario.Checkpoint(work) ? resumed : a).Concat(new[] { "--resume", rescue }).ToArray();
        ChildRun again = Child.Run(resume);
        Assert.True(again.Code == 0, again.ToString());
        Assert.True(File.ReadAllBytes(resumed).AsSpan().SequenceEqual(scenario.Reference), "resumed from the rescue file, the run differs from the uninterrupted one");

        // Too small for even one checkpoint: refused before the first step.
        using Tmpfs tiny = Tmpfs.TryMount(scenario.Dir.File("tiny"), "size=100k", out _)!;
        ChildRun early = Child.Run(scenario.Args(scenario.Dir.File("tiny-work")).Select(a => a.EndsWith("ck.st", StringComparison.Ordinal) ? Path.Combine(tiny.Path, "ck.st") : a).ToArray());
        Assert.True(early.Code == 1 && early.ErrLines.Length == 1, early.ToString());
        Assert.Contains("no space left on the device", early.Err);
        Assert.DoesNotMatch(LenetCliTests.EpochLine, early.Out);
        Assert.Empty(Directory.GetFileSystemEntries(tiny.Path));
        output.WriteLine("full file system (tmpfs of 300 KB and of 100 KB): 3 runs; the old checkpoint stayed whole, the new one was rescued and resumed exactly; a disk too small was refused before training");
    }

    [SkippableFact]
    public void ReadOnlyDirectory_IsRefusedBeforeTraining()
    {
        Skip.If(OperatingSystem.IsWindows(), "read-only directories are made with Unix modes or mounts here");
        string directory = scenario.Dir.File("readonly");
        string expected = "";
        Tmpfs? mounted = null;
        try
        {
            if (Environment.UserName == "root")
            {
                // Root ignores permission bits: only a read-only mount stops it.
                mounted = Tmpfs.TryMount(directory, "size=1m", out string? whyNot);
                Skip.If(mounted is null, $"running as root, a read-only directory needs a read-only mount: {whyNot}");
                mounted!.Remount("ro");
                expected = "the file system is read-only";
            }
            else if (!OperatingSystem.IsWindows())
            {
                Directory.CreateDirectory(directory);
                File.SetUnixFileMode(directory, UnixFileMode.UserRead | UnixFileMode.UserExecute);
                expected = "permission denied in " + directory;
            }
            string work = scenario.Dir.File("readonly-work");
            foreach (string[] args in new[]
            {
                scenario.Args(work).Select(a => a == FaultScenario.Checkpoint(work) ? Path.Combine(directory, "ck.st") : a).ToArray(),
                scenario.Args(work).Select(a => a == Path.Combine(work, "out") ? Path.Combine(directory, "out") : a).ToArray(),
            })
            {
                ChildRun r = Child.Run(args);
                Assert.True(r.Code == 1 && r.ErrLines.Length == 1, r.ToString());
                // The --out case fails creating the directory, in the words of the operating system.
                Assert.True(new[] { expected, "Read-only file system", "is denied" }.Any(m => r.Err.Contains(m, StringComparison.Ordinal)), r.ToString());
                Assert.DoesNotMatch(LenetCliTests.EpochLine, r.Out);
            }
            output.WriteLine($"read-only directory ({(mounted is null ? "mode 0500" : "read-only tmpfs")}): --save and --out, 2 runs, both refused before training");
        }
        finally
        {
            mounted?.Dispose();
            if (mounted is null && Directory.Exists(directory) && !OperatingSystem.IsWindows()) File.SetUnixFileMode(directory, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }
    }

    [SkippableFact]
    public void LinksAndSpecialFiles()
    {
        Skip.IfNot(OperatingSystem.IsLinux(), "FIFOs, sockets and device nodes are made with Linux calls here");
        string work = scenario.Dir.File("special");
        Directory.CreateDirectory(work);
        string fifo = Path.Combine(work, "pipe");
        AtomicFileTests.MakeFifo(fifo);
        string checkpoint = Path.Combine(work, "good.st");
        using (var net = new Nets.LeNet(new NetworkOptions { Threads = 1 })) GraphGen.Checkpoints.Checkpoint.Save(net, checkpoint);
        var cases = new List<string>();

        void Refused(string what, string[] args, string expected)
        {
            ChildRun r = Child.Run(args);
            Assert.True(r.Code == 1 && r.ErrLines.Length == 1, $"{what}\n{r}");
            Assert.True(r.Err.Contains(expected, StringComparison.Ordinal), $"{what}: stderr does not say '{expected}'\n{r}");
            Assert.DoesNotMatch(LenetCliTests.EpochLine, r.Out);
            cases.Add(what);
        }

        // Nothing holds the FIFO's other end: opening it would block forever.
        Refused("eval --checkpoint FIFO", ["eval", "--checkpoint", fifo, "--threads", "1", "--data-dir", scenario.Data, "--no-install"], $"{fifo}: it is a FIFO (named pipe), not a regular file");
        Refused("predict --image FIFO", ["predict", "--checkpoint", checkpoint, "--image", fifo], $"{fifo} is a FIFO (named pipe), not a regular file");
        Refused("train --save FIFO", scenario.Args(work).Select(a => a.EndsWith("ck.st", StringComparison.Ordinal) ? fifo : a).ToArray(), "it is a FIFO (named pipe), not a regular file");
        Refused("train --init FIFO", scenario.Args(work, "--init", fifo), "it is a FIFO (named pipe), not a regular file");

        string socketPath = Path.Combine(work, "sock");
        using (var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified))
        {
            socket.Bind(new UnixDomainSocketEndPoint(socketPath));
            Refused("train --save socket", scenario.Args(work).Select(a => a.EndsWith("ck.st", StringComparison.Ordinal) ? socketPath : a).ToArray(), "it is a socket, not a regular file");
        }

        string device = Path.Combine(work, "null");
        if (Environment.UserName == "root" && Tmpfs.Tool("mknod", device, "c", "1", "3").Code == 0)
        {
            // A copy of /dev/null's node: refusing it is what keeps `--save /dev/null` from replacing /dev/null.
            Refused("train --save character device", scenario.Args(work).Select(a => a.EndsWith("ck.st", StringComparison.Ordinal) ? device : a).ToArray(), "it is a character device, not a regular file");
            Assert.Equal("a character device", AtomicFile.Kind(device, followLinks: false));
        }
        else
        {
            output.WriteLine("character device: not run (mknod needs root)");
        }

        string link = Path.Combine(work, "link.st");
        File.CreateSymbolicLink(link, "target.st");
        ChildRun linked = Child.Run(scenario.Args(work).Select(a => a.EndsWith("ck.st", StringComparison.Ordinal) ? link : a).ToArray());
        Assert.True(linked.Code == 0, linked.ToString());
        Assert.NotNull(new FileInfo(link).LinkTarget);
        Assert.True(File.ReadAllBytes(Path.Combine(work, "target.st")).AsSpan().SequenceEqual(scenario.Reference));
        cases.Add("train --save symlink (written through)");
        Assert.Equal("a FIFO (named pipe)", AtomicFile.Kind(fifo, followLinks: false));
        output.WriteLine($"links and special files: {cases.Count} cases ({string.Join("; ", cases)})");
    }
}
