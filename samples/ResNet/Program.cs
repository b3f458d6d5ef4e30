using System;
using System.CommandLine;
using System.Diagnostics;
using System.IO;
using GraphGen;
using GraphGen.Checkpoints;
using GraphGen.Data;
using GraphGen.Samples;
using GraphGen.Training;

// Trains ResNet10 (ResNet10.cs, the default) or ResNet8 (ResNet8.cs) on FashionMNIST: SGD with Nesterov
// momentum and weight decay, a cosine schedule with warmup, random crops and flips; reports loss, train
// and test accuracy per epoch.
//   dotnet run -c Release --project samples/ResNet -- train --epochs 20 [--network resnet8]
var networks = new (string Name, Func<NetworkOptions, INetwork> Create)[] { ("resnet10", o => new ResNet10(o)), ("resnet8", o => new ResNet8(o)) };
string names = string.Join(" or ", Array.ConvertAll(networks, n => n.Name));
var network = new Option<string>("--network") { Description = $"The network to train: {names}", DefaultValueFactory = _ => networks[0].Name };
var epochs = new Option<int>("--epochs") { Description = "Epochs to train", DefaultValueFactory = _ => 20 };
var batch = new Option<int>("--batch-size") { Description = "Samples per step", DefaultValueFactory = _ => 128 };
var lr = new Option<float>("--lr") { Description = "Peak learning rate", DefaultValueFactory = _ => 0.1f };
var momentum = new Option<float>("--momentum") { Description = "Nesterov momentum (0: plain SGD)", DefaultValueFactory = _ => 0.9f };
var decay = new Option<float>("--weight-decay") { Description = "L2 weight decay of the conv and dense weights", DefaultValueFactory = _ => 5e-4f };
var schedule = new Option<string>("--schedule") { Description = "constant or cosine", DefaultValueFactory = _ => "cosine" };
var warmup = new Option<double>("--warmup") { Description = "Epochs of linear warmup", DefaultValueFactory = _ => 1 };
var noAugment = new Option<bool>("--no-augment") { Description = "Train without random crops (2 pixels) and flips" };
var seed = new Option<int>("--seed") { Description = "Seed of the initialization, the shuffles and the augmentation", DefaultValueFactory = _ => 0 };
var threads = new Option<int>("--threads") { Description = "Threads per step", DefaultValueFactory = _ => Environment.ProcessorCount };
var limit = new Option<int>("--limit") { Description = "Train on the first N images only (0: all)", DefaultValueFactory = _ => 0 };
var dataDir = new Option<string?>("--data-dir") { Description = $"Directory with the four FashionMNIST .gz files (default: {FashionMnist.DefaultDirectory})" };
var save = new Option<FileInfo?>("--save") { Description = "Write a safetensors checkpoint here at the end" };
var noInstall = new Option<bool>("--no-install") { Description = "Do not install the data set when it is missing" };

var train = new Command("train", "Train a residual network on FashionMNIST")
{
    network, epochs, batch, lr, momentum, decay, schedule, warmup, noAugment, seed, threads, limit, dataDir, save, noInstall,
};
train.SetAction(r => Train(new Settings(r.GetValue(network)!, r.GetValue(epochs), r.GetValue(batch), r.GetValue(lr), r.GetValue(momentum), r.GetValue(decay),
    r.GetValue(schedule)!, r.GetValue(warmup), !r.GetValue(noAugment), r.GetValue(seed), r.GetValue(threads), r.GetValue(limit),
    r.GetValue(dataDir), r.GetValue(save), !r.GetValue(noInstall))));
var summary = new Command("summary", "The layers, what each reads, their output shapes, the arena size and the work per image") { network };
summary.SetAction(r =>
{
    if (Find(r.GetValue(network)!) is not { } create) return 2;
    using INetwork net = create(new NetworkOptions());
    Console.Write(net.Summary());
    Console.WriteLine($"{FlopCount.TrainingStep(net) / 1e6:F1} MFLOP per image for a training step, {FlopCount.Forward(net) / 1e6:F1} for inference");
    return 0;
});
return new RootCommand("GraphGen's residual networks on FashionMNIST: residual blocks compiled from attributes") { train, summary }.Parse(args).Invoke();

// The network of that name, or null after one error line that lists the names.
Func<NetworkOptions, INetwork>? Find(string name)
{
    foreach (var n in networks) if (n.Name == name) return n.Create;
    Console.Error.WriteLine($"resnet: --network must be {names}, not '{name}'");
    return null;
}

int Train(Settings s)
{
    if (Find(s.Network) is not { } create) return 2;
    string? problem =
        s.Epochs < 1 || s.BatchSize < 1 || s.Threads < 1 ? "--epochs, --batch-size and --threads must be at least 1"
        : s.Limit < 0 ? "--limit must not be negative"
        : !(s.LearningRate > 0) || !float.IsFinite(s.LearningRate) ? "--lr must be a positive number"
        : !(s.Momentum >= 0 && s.Momentum < 1) ? "--momentum must be in [0, 1)"
        : !(s.WeightDecay >= 0) || !float.IsFinite(s.WeightDecay) ? "--weight-decay must not be negative"
        : s.Schedule is not ("constant" or "cosine") ? $"--schedule must be constant or cosine, not '{s.Schedule}'"
        : !(s.Warmup >= 0 && s.Warmup <= s.Epochs) ? "--warmup must be between 0 and --epochs"
        : null;
    if (problem is not null)
    {
        Console.Error.WriteLine($"resnet: {problem}");
        return 2;
    }
    try
    {
        DataSetup.Ensure(s.DataDir, s.Install, Console.Error.WriteLine);
        Dataset trainSet = FashionMnist.LoadTrain(s.DataDir), testSet = FashionMnist.LoadTest(s.DataDir);
        if (s.Limit > 0 && s.Limit < trainSet.Count) trainSet = trainSet.Take(s.Limit);
        using INetwork net = create(new NetworkOptions { Seed = s.Seed, MaxBatch = s.BatchSize, Threads = s.Threads });
        new Sgd { Momentum = s.Momentum, Nesterov = s.Momentum > 0, WeightDecay = s.WeightDecay }.Attach(net);
        LearningRateSchedule rates = s.Schedule == "cosine" ? new CosineSchedule { WarmupEpochs = s.Warmup } : new ConstantSchedule { WarmupEpochs = s.Warmup };
        var augment = s.Augment ? new Augmentation { CropPadding = 2, HorizontalFlip = true } : null;
        using var batches = new BatchLoader(trainSet, s.BatchSize, s.Seed, augmentation: augment);

        Console.Write(net.Summary());
        Console.WriteLine($"{FlopCount.TrainingStep(net) / 1e6:F1} MFLOP per image for a training step");
        Console.WriteLine($"SIMD path {net.Simd}, {net.Threads} threads, batch {s.BatchSize}, SGD lr {s.LearningRate} ({s.Schedule}, warmup {s.Warmup}), " +
                          $"momentum {s.Momentum}, weight decay {s.WeightDecay}, {(s.Augment ? "crops and flips" : "no augmentation")}, {trainSet.Count:N0} training images");
        Console.WriteLine($"{"epoch",5} {"lr",8} {"loss",8} {"train acc",9} {"test acc",8} {"seconds",8} {"images/s",9}");
        long step = 0;
        for (int epoch = 1; epoch <= s.Epochs; epoch++)
        {
            var clock = Stopwatch.StartNew();
            double loss = 0;
            long correct = 0;
            float rate = 0;
            batches.StartEpoch(epoch);
            while (batches.TryNext(out Batch b))
            {
                rate = rates.Rate(s.LearningRate, step++, batches.BatchesPerEpoch, s.Epochs);
                StepResult r = b.IsBytes ? net.TrainStep(b.Pixels, b.Labels, rate) : net.TrainStep(b.Values, b.Labels, rate);
                if (!r.IsFinite) throw new DivergenceException(epoch, b.Index + 1, r.LossSum, net.FindNonFinite());
                loss += r.LossSum;
                correct += r.Correct;
            }
            double seconds = clock.Elapsed.TotalSeconds;
            double test = Trainer.Evaluate(net, testSet);
            Console.WriteLine($"{epoch,5} {rate,8:G3} {loss / trainSet.Count,8:F4} {(double)correct / trainSet.Count,9:F4} {test,8:F4} {seconds,8:F1} {trainSet.Count / seconds,9:N0}");
        }
        if (s.Save is not null)
        {
            Checkpoint.Save(net, s.Save.FullName);
            Console.WriteLine($"saved {s.Save.FullName}");
        }
        return 0;
    }
    catch (Exception ex) when (ex is DataFormatException or DivergenceException or CheckpointException or IOException or UnauthorizedAccessException)
    {
        Console.Error.WriteLine($"resnet: {ex.Message}");
        return 1;
    }
}

internal sealed record Settings(
    string Network, int Epochs, int BatchSize, float LearningRate, float Momentum, float WeightDecay, string Schedule, double Warmup, bool Augment,
    int Seed, int Threads, int Limit, string? DataDir, FileInfo? Save, bool Install);
