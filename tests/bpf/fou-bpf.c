// SPDX-License-Identifier: GPL-2.0
/*
 * fou-bpf: the user-space half of tests/bpf.sh, linked with the libbpf of
 * the kernel under test (tests/bpf/build). One command per run:
 *
 *   fou-bpf vmlinux-h BTF             the C header of a BTF file (vmlinux.h)
 *   fou-bpf kfuncs MODULE             the two kfuncs as MODULE's BTF has
 *                                     them: prototypes, decl tags, argument
 *                                     types; to compare fou_rs with fou
 *   fou-bpf load OBJ PROG             loads one program of OBJ; prints
 *                                     "loaded" or "refused: <errno name>"
 *   fou-bpf run OBJ PROG              loads and runs it once on a small
 *                                     IPv4 packet (BPF_PROG_TEST_RUN);
 *                                     prints its return value and the
 *                                     object's `results` array
 *   fou-bpf tc OBJ DEV INGRESS EGRESS attaches two programs of OBJ to DEV's
 *                                     TC hooks (`-` for none); they stay
 *                                     attached after it exits
 *
 * Exits 0 when the command did what it says, 1 otherwise.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>

static void vprintf_cb(void *ctx, const char *fmt, va_list args)
{
	vprintf(fmt, args);
}

static int vmlinux_h(const char *path)
{
	struct btf *btf = btf__parse(path, NULL);
	struct btf_dump *d;
	__u32 id, n;

	if (!btf)
		return fprintf(stderr, "fou-bpf: cannot read BTF from %s\n", path), 1;
	d = btf_dump__new(btf, vprintf_cb, NULL, NULL);
	if (!d)
		return 1;
	printf("#ifndef __VMLINUX_H__\n#define __VMLINUX_H__\n\n");
	printf("#ifndef BPF_NO_PRESERVE_ACCESS_INDEX\n");
	printf("#pragma clang attribute push (__attribute__((preserve_access_index)), apply_to = record)\n#endif\n\n");
	n = btf__type_cnt(btf);
	for (id = 1; id < n; id++)
		if (btf_dump__dump_type(d, id))
			return fprintf(stderr, "fou-bpf: cannot dump type %u\n", id), 1;
	printf("\n#ifndef BPF_NO_PRESERVE_ACCESS_INDEX\n#pragma clang attribute pop\n#endif\n\n#endif\n");
	return 0;
}

/* Prints `name`'s prototype, whether a `bpf_kfunc` decl tag marks it, and
 * the C text of the types its pointer arguments point to. */
static int print_kfunc(struct btf *btf, struct btf_dump *d, const char *name)
{
	DECLARE_LIBBPF_OPTS(btf_dump_emit_type_decl_opts, opts, .field_name = name);
	__s32 id = btf__find_by_name_kind(btf, name, BTF_KIND_FUNC);
	const struct btf_type *t;
	__u32 i, n = btf__type_cnt(btf);
	int tagged = 0;

	if (id < 0)
		return printf("%s: not in BTF\n", name), 1;
	t = btf__type_by_id(btf, id);
	btf_dump__emit_type_decl(d, t->type, &opts);
	printf(";\n");
	for (i = 1; i < n; i++) {
		const struct btf_type *tag = btf__type_by_id(btf, i);

		if (btf_is_decl_tag(tag) && tag->type == (__u32)id &&
		    !strcmp(btf__name_by_offset(btf, tag->name_off), "bpf_kfunc"))
			tagged = 1;
	}
	printf("%s: %s\n", name, tagged ? "tagged bpf_kfunc" : "NOT tagged bpf_kfunc");
	return 0;
}

static int kfuncs(const char *module)
{
	struct btf *vmlinux = btf__load_vmlinux_btf();
	struct btf *btf = vmlinux ? btf__load_module_btf(module, vmlinux) : NULL;
	const char *types[] = { "bpf_fou_encap", "bpf_fou_encap_type" };
	int kinds[] = { BTF_KIND_STRUCT, BTF_KIND_ENUM };
	struct btf_dump *d;
	int err = 0;

	if (!btf)
		return fprintf(stderr, "fou-bpf: no BTF for module %s\n", module), 1;
	d = btf_dump__new(btf, vprintf_cb, NULL, NULL);
	err |= print_kfunc(btf, d, "bpf_skb_set_fou_encap");
	err |= print_kfunc(btf, d, "bpf_skb_get_fou_encap");
	for (int i = 0; i < 2; i++) {
		__s32 id = btf__find_by_name_kind(btf, types[i], kinds[i]);

		if (id < 0) {
			printf("%s: not in BTF\n", types[i]);
			err = 1;
			continue;
		}
		btf_dump__dump_type(d, id);
	}
	return err;
}

/* Opens OBJ with only PROG (and, for `tc`, a second one) to be loaded. */
static struct bpf_object *open_only(const char *path, const char *a, const char *b)
{
	struct bpf_object *obj = bpf_object__open_file(path, NULL);
	struct bpf_program *p;

	if (!obj)
		return NULL;
	bpf_object__for_each_program(p, obj) {
		const char *n = bpf_program__name(p);

		bpf_program__set_autoload(p, !strcmp(n, a) || (b && !strcmp(n, b)));
	}
	return obj;
}

static int load(const char *path, const char *prog)
{
	struct bpf_object *obj = open_only(path, prog, NULL);
	int err;

	if (!obj)
		return printf("refused: cannot open %s\n", path), 1;
	err = bpf_object__load(obj);
	if (err)
		printf("refused: %s\n", strerrorname_np(-err) ?: "?");
	else
		printf("loaded\n");
	return 0;
}

static int run(const char *path, const char *prog)
{
	/* Ethernet, IPv4 (10.0.0.1 -> 10.0.0.2, UDP), UDP 4444 -> 5555. */
	static unsigned char pkt[64] = {
		0, 0, 0, 0, 0, 2, 0, 0, 0, 0, 0, 1, 0x08, 0x00,
		0x45, 0, 0, 50, 0, 0, 0x40, 0, 64, 17, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2,
		0x11, 0x5c, 0x15, 0xb3, 0, 30, 0, 0,
	};
	struct bpf_object *obj = open_only(path, prog, NULL);
	DECLARE_LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = pkt, .data_size_in = sizeof(pkt), .repeat = 1);
	struct bpf_map *bss;
	int results[32], zero = 0, err;

	if (!obj || bpf_object__load(obj))
		return printf("refused\n"), 1;
	err = bpf_prog_test_run_opts(bpf_program__fd(bpf_object__find_program_by_name(obj, prog)), &opts);
	if (err)
		return printf("test run failed: %s\n", strerror(-err)), 1;
	printf("return %d\n", (int)opts.retval);
	bss = bpf_object__find_map_by_name(obj, ".bss");
	if (!bss || bpf_map__lookup_elem(bss, &zero, sizeof(zero), results, sizeof(results), 0))
		return printf("no results\n"), 1;
	for (int i = 0; i < 32; i++)
		printf("%d%s", results[i], i == 31 ? "\n" : " ");
	return 0;
}

static int attach(struct bpf_object *obj, int ifindex, const char *name, enum bpf_tc_attach_point where)
{
	DECLARE_LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex, .attach_point = where);
	DECLARE_LIBBPF_OPTS(bpf_tc_opts, opts);
	int err;

	if (!strcmp(name, "-"))
		return 0;
	opts.prog_fd = bpf_program__fd(bpf_object__find_program_by_name(obj, name));
	err = bpf_tc_hook_create(&hook);
	if (err && err != -EEXIST)
		return fprintf(stderr, "fou-bpf: tc hook: %s\n", strerror(-err)), 1;
	err = bpf_tc_attach(&hook, &opts);
	if (err)
		return fprintf(stderr, "fou-bpf: tc attach %s: %s\n", name, strerror(-err)), 1;
	return 0;
}

static int tc(const char *path, const char *dev, const char *in, const char *out)
{
	int ifindex = if_nametoindex(dev);
	struct bpf_object *obj = open_only(path, in, out);

	if (!ifindex)
		return fprintf(stderr, "fou-bpf: no device %s\n", dev), 1;
	if (!obj || bpf_object__load(obj))
		return fprintf(stderr, "fou-bpf: cannot load %s and %s from %s\n", in, out, path), 1;
	return attach(obj, ifindex, in, BPF_TC_INGRESS) || attach(obj, ifindex, out, BPF_TC_EGRESS);
}

int main(int argc, char **argv)
{
	const char *cmd = argc > 1 ? argv[1] : "";

	if (!strcmp(cmd, "vmlinux-h") && argc == 3)
		return vmlinux_h(argv[2]);
	if (!strcmp(cmd, "kfuncs") && argc == 3)
		return kfuncs(argv[2]);
	if (!strcmp(cmd, "load") && argc == 4)
		return load(argv[2], argv[3]);
	if (!strcmp(cmd, "run") && argc == 4)
		return run(argv[2], argv[3]);
	if (!strcmp(cmd, "tc") && argc == 6)
		return tc(argv[2], argv[3], argv[4], argv[5]);
	fprintf(stderr, "usage: fou-bpf vmlinux-h BTF | kfuncs MODULE | load OBJ PROG | run OBJ PROG | tc OBJ DEV INGRESS EGRESS\n");
	return 2;
}
