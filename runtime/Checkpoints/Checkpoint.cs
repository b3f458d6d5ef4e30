using System;
using System.Collections.Generic;
using System.Linq;
using GraphGen.Training;

namespace GraphGen.Checkpoints;

/// <summary>
/// Saves a network's parameter and state tensors to a safetensors file under their checkpoint names
/// (e.g. "conv1.weight", "batchnorm1.moving_var") and PyTorch shapes, and loads them back; with an
/// <see cref="Optimizer"/>, its state tensors ("optimizer.step", "optimizer.conv1.weight.exp_avg", ...) too.
/// </summary>
public static class Checkpoint
{
    /// <summary>Metadata key holding the <see cref="INetwork.Name"/> of the network that was saved.</summary>
    public const string NetworkKey = "graphgen.network";

    /// <summary>Metadata key holding the checkpoint layout version, <see cref="FormatVersion"/>.</summary>
    public const string FormatKey = "graphgen.format";

    /// <summary>The checkpoint layout version this code writes and reads.</summary>
    public const string FormatVersion = "1";

    /// <summary>Metadata key holding the <see cref="Optimizer.Kind"/> whose state the file holds, if any.</summary>
    public const string OptimizerKey = "graphgen.optimizer";

    /// <summary>
    /// Writes every tensor of <paramref name="net"/> atomically to <paramref name="path"/> (see
    /// <see cref="Safetensors.Write"/>). The metadata always holds <see cref="NetworkKey"/> and <see cref="FormatKey"/>;
    /// entries of <paramref name="metadata"/> (e.g. "graphgen.epoch") are added to them.
    /// </summary>
    /// <param name="net">The network to save.</param>
    /// <param name="path">The file to create or replace; a previous file survives any failure.</param>
    /// <param name="metadata">Extra metadata entries.</param>
    /// <param name="optimizer">The optimizer attached to <paramref name="net"/>, whose state tensors are saved too (and its kind under <see cref="OptimizerKey"/>).</param>
    public static void Save(INetwork net, string path, IReadOnlyDictionary<string, string>? metadata = null, Optimizer? optimizer = null)
    {
        ArgumentNullException.ThrowIfNull(net);
        ArgumentNullException.ThrowIfNull(path);
        var entries = new Dictionary<string, string>(StringComparer.Ordinal);
        if (metadata is not null)
        {
            foreach (var (key, value) in metadata) entries[key] = value;
        }
        entries[NetworkKey] = net.Name;
        entries[FormatKey] = FormatVersion;
        CheckOptimizer(net, optimizer);
        if (optimizer is not null) entries[OptimizerKey] = optimizer.Kind;

        var tensors = new List<SafetensorsTensor>(net.Tensors.Count);
        foreach (TensorInfo info in net.Tensors)
            tensors.Add(new SafetensorsTensor(info.Name, (int[])info.Shape.Clone(), net.Tensor(info.Name).ToArray()));
        if (optimizer is not null)
            foreach (TensorInfo info in optimizer.State)
                tensors.Add(new SafetensorsTensor(info.Name, (int[])info.Shape.Clone(), optimizer.StateTensor(info.Name).ToArray()));
        Safetensors.Write(path, tensors, entries);
    }

    /// <summary>
    /// Reads <paramref name="path"/> and copies its values into <paramref name="net"/>. Everything is checked first:
    /// the file must be valid and hold exactly the network's tensors with the network's shapes (and, with
    /// <paramref name="optimizer"/>, its state tensors; without, optimizer state in the file is skipped). If any
    /// check fails, nothing is written into the network or the optimizer.
    /// </summary>
    /// <param name="net">The network to load into.</param>
    /// <param name="path">The checkpoint file.</param>
    /// <param name="optimizer">The optimizer attached to <paramref name="net"/>, to load its state too (resuming a run).</param>
    /// <returns>The file's metadata.</returns>
    /// <exception cref="CheckpointException">The file is unreadable or malformed, or does not fit the network; the message names the first problem.</exception>
    public static IReadOnlyDictionary<string, string> Load(INetwork net, string path, Optimizer? optimizer = null)
    {
        ArgumentNullException.ThrowIfNull(net);
        ArgumentNullException.ThrowIfNull(path);
        CheckOptimizer(net, optimizer);
        SafetensorsFile file = Safetensors.Read(path);
        if (Mismatch(net, file, optimizer) is { } problem)
        {
            // The saved name only explains a mismatch: a renamed class with the same tensors still loads.
            if (file.Metadata.TryGetValue(NetworkKey, out string? saved) && saved != net.Name)
                problem += $" (the file was saved from {saved}, not {net.Name})";
            throw new CheckpointException(path, problem);
        }
        // Only now is INetwork.Tensor called: it counts as a write (it invalidates folded weights), so the
        // checks above look at TensorInfo alone.
        foreach (TensorInfo info in net.Tensors)
        {
            float[] values = file.Find(info.Name)!.Data;
            Span<float> target = net.Tensor(info.Name);
            if (target.Length != values.Length)
                throw new InvalidOperationException($"{net.Name}.Tensor(\"{info.Name}\") has {target.Length} values but its shape {Safetensors.Format(info.Shape)} has {values.Length}.");
            values.CopyTo(target);
        }
        if (optimizer is not null)
            foreach (TensorInfo info in optimizer.State)
                file.Find(info.Name)!.Data.CopyTo(optimizer.StateTensor(info.Name));
        return file.Metadata;
    }

    private static void CheckOptimizer(INetwork net, Optimizer? optimizer)
    {
        if (optimizer is not null && !ReferenceEquals(optimizer.Network, net))
            throw new ArgumentException($"the {optimizer.Kind} optimizer is not attached to {net.Name}; attach it first (Optimizer.Attach)", nameof(optimizer));
    }

    private static string? OptimizerMismatch(SafetensorsFile file, Optimizer? optimizer)
    {
        if (optimizer is null) return null;
        file.Metadata.TryGetValue(OptimizerKey, out string? saved);
        if (saved is null)
            return $"the file holds no optimizer state, and this run's {optimizer.Kind} optimizer needs it (load it without the optimizer to start a new run from its weights)";
        if (saved != optimizer.Kind)
            return $"the file holds {saved} optimizer state, this run uses {optimizer.Kind}";
        return null;
    }

    private static string? Mismatch(INetwork net, SafetensorsFile file, Optimizer? optimizer)
    {
        if (file.Metadata.TryGetValue(FormatKey, out string? format) && format != FormatVersion)
            return $"{FormatKey} is '{format}', but this version reads '{FormatVersion}'";
        if (optimizer is not null && OptimizerMismatch(file, optimizer) is { } wrong) return wrong;
        IEnumerable<TensorInfo> expectedTensors = optimizer is null ? net.Tensors : net.Tensors.Concat(optimizer.State);
        foreach (TensorInfo info in expectedTensors)
        {
            if (file.Find(info.Name) is not { } t)
            {
                string has = file.Tensors.Count <= 20
                    ? "the file has " + (file.Tensors.Count == 0 ? "no tensors" : string.Join(", ", file.Tensors.Select(x => x.Name)))
                    : $"the file has {file.Tensors.Count} tensors";
                return $"tensor '{info.Name}' of {net.Name} is missing; {has}";
            }
            if (!t.Shape.AsSpan().SequenceEqual(info.Shape))
                return $"{info.Name}: file has {Safetensors.Format(t.Shape)}, {net.Name} has {Safetensors.Format(info.Shape)}";
        }
        var expected = new HashSet<string>(expectedTensors.Select(x => x.Name), StringComparer.Ordinal);
        foreach (SafetensorsTensor t in file.Tensors)
        {
            if (optimizer is null && t.Name.StartsWith(Optimizer.Prefix, StringComparison.Ordinal)) continue;
            if (!expected.Contains(t.Name))
                return $"the file has tensor '{t.Name}', which {net.Name} does not have";
        }
        return null;
    }
}
