/* A QEMU TCG plugin that counts the guest instructions a program executes: breedcam's cost
 * proxy for aarch64 code on an x86 machine (tools/aarch64-cost/run.sh).
 *
 * Written against QEMU's stable plugin C API (version 1, QEMU 7.2 as in Debian bookworm's
 * qemu-user); the few declarations it needs are spelled out here because Debian ships no
 * qemu-plugin.h. Counting is inline (no callback per block), so it is exact and cheap. */
#include <inttypes.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef uint64_t qemu_plugin_id_t;
struct qemu_plugin_tb;
typedef struct qemu_info_t qemu_info_t;
enum qemu_plugin_op { QEMU_PLUGIN_INLINE_ADD_U64 };
typedef void (*qemu_plugin_vcpu_tb_trans_cb_t)(qemu_plugin_id_t id, struct qemu_plugin_tb *tb);
typedef void (*qemu_plugin_udata_cb_t)(qemu_plugin_id_t id, void *userdata);

extern void qemu_plugin_register_vcpu_tb_trans_cb(qemu_plugin_id_t id,
                                                  qemu_plugin_vcpu_tb_trans_cb_t cb);
extern size_t qemu_plugin_tb_n_insns(const struct qemu_plugin_tb *tb);
extern void qemu_plugin_register_vcpu_tb_exec_inline(struct qemu_plugin_tb *tb,
                                                     enum qemu_plugin_op op, void *ptr,
                                                     uint64_t imm);
extern void qemu_plugin_register_atexit_cb(qemu_plugin_id_t id, qemu_plugin_udata_cb_t cb,
                                           void *userdata);
extern void qemu_plugin_outs(const char *string);
extern uint64_t qemu_plugin_tb_vaddr(const struct qemu_plugin_tb *tb);

__attribute__((visibility("default"))) int qemu_plugin_version = 1;

/* One counter for all threads: benign races would undercount, so run one thread. */
static uint64_t insns;

/* With the plugin argument `tbs=FILE`: instructions per translated block as well, written to
 * FILE as "start-address count" lines, for run.sh to attribute to symbols. Blocks live in
 * fixed chunks, so the inline counters' addresses never move. */
struct tb_count {
    uint64_t vaddr;
    uint64_t insns;
};
#define CHUNK 65536
struct chunk {
    struct tb_count tb[CHUNK];
    size_t used;
    struct chunk *next;
};
static struct chunk *chunks;
static const char *tbs_file;

static void tb_trans(qemu_plugin_id_t id, struct qemu_plugin_tb *tb) {
    (void)id;
    size_t n = qemu_plugin_tb_n_insns(tb);
    qemu_plugin_register_vcpu_tb_exec_inline(tb, QEMU_PLUGIN_INLINE_ADD_U64, &insns, n);
    if (!tbs_file) {
        return;
    }
    if (!chunks || chunks->used == CHUNK) {
        struct chunk *c = calloc(1, sizeof *c);
        if (!c) {
            abort();
        }
        c->next = chunks;
        chunks = c;
    }
    struct tb_count *t = &chunks->tb[chunks->used++];
    t->vaddr = qemu_plugin_tb_vaddr(tb);
    qemu_plugin_register_vcpu_tb_exec_inline(tb, QEMU_PLUGIN_INLINE_ADD_U64, &t->insns, n);
}

static void at_exit(qemu_plugin_id_t id, void *p) {
    (void)id;
    (void)p;
    char buf[64];
    snprintf(buf, sizeof buf, "insns %" PRIu64 "\n", insns);
    qemu_plugin_outs(buf);
    if (tbs_file) {
        FILE *f = fopen(tbs_file, "w");
        if (!f) {
            qemu_plugin_outs("insn: cannot write the tbs file\n");
            return;
        }
        for (struct chunk *c = chunks; c; c = c->next) {
            for (size_t i = 0; i < c->used; i++) {
                if (c->tb[i].insns) {
                    fprintf(f, "%" PRIx64 " %" PRIu64 "\n", c->tb[i].vaddr, c->tb[i].insns);
                }
            }
        }
        fclose(f);
    }
}

__attribute__((visibility("default"))) int qemu_plugin_install(qemu_plugin_id_t id,
                                                               const qemu_info_t *info,
                                                               int argc, char **argv) {
    (void)info;
    for (int i = 0; i < argc; i++) {
        if (strncmp(argv[i], "tbs=", 4) == 0) {
            tbs_file = argv[i] + 4;
        }
    }
    qemu_plugin_register_vcpu_tb_trans_cb(id, tb_trans);
    qemu_plugin_register_atexit_cb(id, at_exit, NULL);
    return 0;
}
