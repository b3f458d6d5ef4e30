using System;
using System.CommandLine;
using System.Diagnostics;
using System.IO;
using System.Linq;
using GraphGen.Data;
using GraphGen.Quantization;

namespace GraphGen.Samples;

/// <summary>lenet eval --int8 --checkpoint Y: test accuracy and confusion matrix of a network written by
/// 'lenet quantize'. Adds --int8 to the eval command; without it, eval runs as before.</summary>
internal static class EvalInt8Command
{
    public static void AddTo(RootCommand root)
    {
        Command eval = root.Subcommands.First(c => c.Name == "eval");
        var int8 = new Option<bool>("--int8") { Description = "The checkpoint is an int8 network written by 'lenet quantize'" };
        eval.Options.Add(int8);
        var floatAction = (System.CommandLine.Invocation.SynchronousCommandLineAction)eval.Action!;
        eval.SetAction(r => r.GetValue(int8)
            ? Run(r.GetValue<FileInfo>("--checkpoint")!, r.GetValue<string?>("--data-dir"), r.GetValue<int>("--threads"), r.GetValue<SimdPath>("--simd"), !r.GetValue<bool>("--no-install"))
            : floatAction.Invoke(r));
    }

    private static int Run(FileInfo checkpoint, string? dataDir, int threads, SimdPath simd, bool install)
    {
        if (threads is < 1 or > Commands.MaxThreads) throw new UsageException($"--threads must be between 1 and {Commands.MaxThreads} (got {threads})");
        // --simd Scalar selects the scalar int8 kernels; any other value the fastest this processor has.
        using var q = QuantizedNetwork.Load(checkpoint.FullName, new Int8Options { Threads = threads, Kernel = simd == SimdPath.Scalar ? Int8Kernel.Scalar : Int8Kernel.Auto });
        if (q.InputSize != 28 * 28 || q.Classes != 10)
            throw new InvalidDataException($"{checkpoint.Name} is an int8 network of {q.InputSize} inputs and {q.Classes} classes, not a FashionMNIST classifier");
        DataSetup.Ensure(dataDir, install, Console.WriteLine);
        Dataset test = FashionMnist.LoadTest(dataDir);
        if (test.Count == 0) throw new InvalidDataException("the test set holds no images: there is nothing to evaluate");
        var logits = new float[test.Count * 10];
        var clock = Stopwatch.StartNew();
        q.Infer(test.Pixels, logits);
        double seconds = clock.Elapsed.TotalSeconds;
        var confusion = new long[10, 10];
        int correct = 0;
        for (int i = 0; i < test.Count; i++)
        {
            int best = 0;
            for (int k = 1; k < 10; k++) if (logits[i * 10 + k] > logits[i * 10 + best]) best = k;
            confusion[test.Labels[i], best]++;
            if (best == test.Labels[i]) correct++;
        }
        double accuracy = (double)correct / test.Count;
        Console.WriteLine(FormattableString.Invariant($"{checkpoint.Name}: int8 test accuracy {accuracy:F4} on {test.Count:N0} images ({test.Count / seconds:N0} images/s, {q.Kernel} kernels, {q.Threads} thread(s))"));
        Report.PrintConfusion(confusion, accuracy);
        return 0;
    }
}
