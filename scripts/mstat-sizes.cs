// Summarises an ILCompiler .mstat file (publish with -p:IlcGenerateMstatFile=true): native code + type data
// per assembly and per namespace, and the largest blobs. Used to find what makes the AOT binary big.
// Usage: dotnet run scripts/mstat-sizes.cs -- Octopus/obj/Release/net10.0/linux-x64/native/octopus.mstat [top] [assembly]
using System.Collections.Immutable;
using System.Reflection.Metadata;
using System.Reflection.Metadata.Ecma335;
using System.Reflection.PortableExecutable;

var path = args[0];
var top = args.Length > 1 ? int.Parse(args[1]) : 40;
using var pe = new PEReader(File.OpenRead(path));
var md = pe.GetMetadataReader();
var version = md.GetAssemblyDefinition().Version.Major;
var provider = new Provider();

MethodDefinition Global(string name) => md.GetTypeDefinition(MetadataTokens.TypeDefinitionHandle(1)).GetMethods()
    .Select(md.GetMethodDefinition).First(m => md.GetString(m.Name) == name);

List<object> Operands(MethodDefinition m)
{
    var il = pe.GetMethodBody(m.RelativeVirtualAddress).GetILReader();
    var list = new List<object>();
    while (il.RemainingBytes > 0)
    {
        var op = il.ReadByte();
        switch (op)
        {
            case 0xD0: list.Add(MetadataTokens.EntityHandle(il.ReadInt32())); break;       // ldtoken
            case 0x72: list.Add(md.GetUserString(MetadataTokens.UserStringHandle(il.ReadInt32() & 0xFFFFFF))); break; // ldstr
            case 0x20: list.Add(il.ReadInt32()); break;                                      // ldc.i4
            case 0x1F: list.Add((int)il.ReadSByte()); break;                                 // ldc.i4.s
            case >= 0x15 and <= 0x1E: list.Add(op - 0x16); break;                           // ldc.i4.m1 .. ldc.i4.8
            case 0x26 or 0x2A or 0x00: break;                                                // pop, ret, nop
            default: throw new InvalidDataException($"unexpected IL opcode 0x{op:X2}");
        }
    }
    return list;
}

Info TypeOf(EntityHandle h) => h.Kind switch
{
    HandleKind.TypeReference => provider.GetTypeFromReference(md, (TypeReferenceHandle)h, 0),
    HandleKind.TypeDefinition => provider.GetTypeFromDefinition(md, (TypeDefinitionHandle)h, 0),
    HandleKind.TypeSpecification => md.GetTypeSpecification((TypeSpecificationHandle)h).DecodeSignature(provider, null),
    _ => new Info("?", "?"),
};
Info MethodOwner(EntityHandle h) => h.Kind switch
{
    HandleKind.MethodSpecification => MethodOwner(md.GetMethodSpecification((MethodSpecificationHandle)h).Method),
    HandleKind.MemberReference => TypeOf(md.GetMemberReference((MemberReferenceHandle)h).Parent),
    HandleKind.MethodDefinition => TypeOf(md.GetMethodDefinition((MethodDefinitionHandle)h).GetDeclaringType()),
    _ => new Info("?", "?"),
};

var rows = new List<(Info Owner, long Size, string Kind)>();
var t = Operands(Global("Types"));
for (int i = 0, n = version == 1 ? 2 : 3; i + n <= t.Count; i += n)
    rows.Add((TypeOf((EntityHandle)t[i]), (int)t[i + 1], "type"));
var m = Operands(Global("Methods"));
for (int i = 0, n = version == 1 ? 4 : 5; i + n <= m.Count; i += n)
    rows.Add((MethodOwner((EntityHandle)m[i]), (int)m[i + 1] + (int)m[i + 2] + (int)m[i + 3], "method"));
var b = Operands(Global("Blobs"));
var blobs = new List<(string Name, int Size)>();
for (int i = 0; i + 2 <= b.Count; i += 2) blobs.Add(((string)b[i], (int)b[i + 1]));

Console.WriteLine($"methods {rows.Where(r => r.Kind == "method").Sum(r => r.Size):n0}  types {rows.Where(r => r.Kind == "type").Sum(r => r.Size):n0}  blobs {blobs.Sum(x => x.Size):n0} bytes");
Console.WriteLine("\n== by assembly (code + type data)");
foreach (var g in rows.GroupBy(r => r.Owner.Assembly).Select(g => (g.Key, Sum: g.Sum(r => r.Size))).OrderByDescending(g => g.Sum).Take(top))
    Console.WriteLine($"{g.Sum,12:n0}  {g.Key}");
Console.WriteLine("\n== by namespace");
foreach (var g in rows.GroupBy(r => r.Owner.Assembly + " : " + r.Owner.Namespace).Select(g => (g.Key, Sum: g.Sum(r => r.Size))).OrderByDescending(g => g.Sum).Take(top))
    Console.WriteLine($"{g.Sum,12:n0}  {g.Key}");
if (args.Length > 2)
{
    Console.WriteLine($"\n== types of {args[2]}");
    foreach (var g in rows.Where(r => r.Owner.Assembly == args[2]).GroupBy(r => r.Owner.Namespace + "." + r.Owner.Type).Select(g => (g.Key, Sum: g.Sum(r => r.Size))).OrderByDescending(g => g.Sum).Take(top))
        Console.WriteLine($"{g.Sum,12:n0}  {g.Key}");
}
Console.WriteLine("\n== largest blobs");
foreach (var x in blobs.OrderByDescending(x => x.Size).Take(15))
    Console.WriteLine($"{x.Size,12:n0}  {x.Name}");

record Info(string Assembly, string Namespace, string Type = "");

sealed class Provider : ISignatureTypeProvider<Info, object?>
{
    static readonly Info CoreLib = new("System.Private.CoreLib", "System");
    public Info GetPrimitiveType(PrimitiveTypeCode typeCode) => CoreLib;
    public Info GetTypeFromDefinition(MetadataReader r, TypeDefinitionHandle handle, byte rawTypeKind) =>
        new("(mstat)", r.GetString(r.GetTypeDefinition(handle).Namespace));
    public Info GetTypeFromReference(MetadataReader r, TypeReferenceHandle handle, byte rawTypeKind)
    {
        var tr = r.GetTypeReference(handle);
        var ns = r.GetString(tr.Namespace);
        var scope = tr.ResolutionScope;
        while (scope.Kind == HandleKind.TypeReference)
        {
            var outer = r.GetTypeReference((TypeReferenceHandle)scope);
            if (ns.Length == 0) ns = r.GetString(outer.Namespace);
            scope = outer.ResolutionScope;
        }
        var asm = scope.Kind == HandleKind.AssemblyReference ? r.GetString(r.GetAssemblyReference((AssemblyReferenceHandle)scope).Name) : "?";
        return new(asm, ns.Length == 0 ? "(global)" : ns, r.GetString(tr.Name));
    }
    public Info GetTypeFromSpecification(MetadataReader r, object? ctx, TypeSpecificationHandle handle, byte rawTypeKind) =>
        r.GetTypeSpecification(handle).DecodeSignature(this, ctx);
    public Info GetSZArrayType(Info elementType) => elementType;
    public Info GetArrayType(Info elementType, ArrayShape shape) => elementType;
    public Info GetByReferenceType(Info elementType) => elementType;
    public Info GetPointerType(Info elementType) => elementType;
    public Info GetPinnedType(Info elementType) => elementType;
    public Info GetGenericInstantiation(Info genericType, ImmutableArray<Info> typeArguments) => genericType;
    public Info GetGenericMethodParameter(object? ctx, int index) => CoreLib;
    public Info GetGenericTypeParameter(object? ctx, int index) => CoreLib;
    public Info GetFunctionPointerType(MethodSignature<Info> signature) => CoreLib;
    public Info GetModifiedType(Info modifier, Info unmodifiedType, bool isRequired) => unmodifiedType;
}
