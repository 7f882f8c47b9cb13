// SPDX-License-Identifier: GPL-2.0-or-later
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pcap/pcap.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/hash.h"
#include "core/fs.h"
#include "core/log.h"
#include "spool/pcap_spool.h"

/* Small stdio buffers: hundreds of calls are open at once and RSS matters
 * more than a few more write() calls. */
#define SPOOL_FILE_BUF 8192
#define SPOOL_NAME_MAX 160

struct vs_spool {
	char dir[PATH_MAX];
	struct vs_spool_stats *st;
	pcap_t *dead[2];	/* per link type: slot cache of pcap_open_dead */
	int dead_lt[2];
};

struct vs_spool_file {
	pcap_dumper_t *dump;
	int linktype;
	int failed;
	uint64_t last_ts;	/* last frame written, to drop repeats */
	uint32_t last_len, last_caplen;
	char *call_id;
	uint64_t calldate_us;
	char rel[96 + SPOOL_NAME_MAX];
};

struct vs_spool *vs_spool__new(const char *spooldir,
			       struct vs_spool_stats *stats)
{
	struct vs_spool *sp;
	int err;

	sp = calloc(1, sizeof(*sp));
	if (!sp)
		return NULL;
	if (strlen(spooldir) >= sizeof(sp->dir) - 200) {
		free(sp);
		errno = ENAMETOOLONG;
		return NULL;
	}
	strcpy(sp->dir, spooldir);
	sp->st = stats;
	err = vs_mkdir_p(sp->dir, 0755);
	if (err) {
		vs_err("spooldir %s: %s", sp->dir, strerror(-err));
		free(sp);
		errno = -err;
		return NULL;
	}
	sp->dead_lt[0] = sp->dead_lt[1] = -1;
	return sp;
}

void vs_spool__free(struct vs_spool *sp)
{
	if (!sp)
		return;
	for (int i = 0; i < 2; i++)
		if (sp->dead[i])
			pcap_close(sp->dead[i]);
	free(sp);
}

char *vs_spool__safe_name(const char *call_id, char *out, size_t size)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t o = 0, limit = size - 1;
	const unsigned char *p = (const unsigned char *)call_id;
	int cut = 0;

	if (limit > SPOOL_NAME_MAX)
		limit = SPOOL_NAME_MAX;
	for (; *p; p++) {
		int keep = (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
			   (*p >= '0' && *p <= '9') || *p == '_' || *p == '-' ||
			   *p == '@' || *p == '+' || (*p == '.' && o > 0);

		if (o + (keep ? 1 : 3) > limit - 17) {
			cut = 1;
			break;
		}
		if (keep) {
			out[o++] = (char)*p;
		} else {
			out[o++] = '%';
			out[o++] = hex[*p >> 4];
			out[o++] = hex[*p & 15];
		}
	}
	if (cut || o == 0)
		o += (size_t)snprintf(out + o, size - o, "~%016llx",
				      (unsigned long long)vs_hash_bytes(
					      call_id, strlen(call_id), 0));
	out[o] = '\0';
	return out;
}

int vs_spool__call_path(char *out, size_t size, uint64_t calldate_us,
			const char *call_id, int n)
{
	char name[SPOOL_NAME_MAX + 1];
	time_t secs = (time_t)(calldate_us / 1000000);
	struct tm tm;
	size_t len;
	int r;

	gmtime_r(&secs, &tm);
	len = strftime(out, size, "%Y-%m-%d/%H/%M", &tm);
	if (!len)
		return -ENAMETOOLONG;
	vs_spool__safe_name(call_id, name, sizeof(name));
	if (n <= 1)
		r = snprintf(out + len, size - len, "/%s.pcap", name);
	else
		r = snprintf(out + len, size - len, "/%s-%d.pcap", name, n);
	if (r < 0 || (size_t)r >= size - len)
		return -ENAMETOOLONG;
	return (int)(len + (size_t)r);
}

struct vs_spool_file *vs_spool__file(struct vs_spool *sp, const char *call_id,
				     uint64_t calldate_us)
{
	struct vs_spool_file *pf = calloc(1, sizeof(*pf));

	(void)sp;
	if (!pf)
		return NULL;
	pf->call_id = strdup(call_id);
	if (!pf->call_id) {
		free(pf);
		return NULL;
	}
	pf->calldate_us = calldate_us;
	return pf;
}

static pcap_t *dead_handle(struct vs_spool *sp, int linktype)
{
	for (int i = 0; i < 2; i++)
		if (sp->dead_lt[i] == linktype)
			return sp->dead[i];
	int slot = sp->dead[0] ? 1 : 0;

	if (sp->dead[slot])
		pcap_close(sp->dead[slot]);
	sp->dead[slot] = pcap_open_dead(linktype, 262144);
	sp->dead_lt[slot] = sp->dead[slot] ? linktype : -1;
	return sp->dead[slot];
}

/* Creates the dated folder and a file that does not exist yet (a Call-ID
 * reused by a later call gets -2, -3 ... rather than overwriting). */
static int file_open(struct vs_spool *sp, struct vs_spool_file *pf,
		     int linktype)
{
	char path[PATH_MAX];
	time_t secs = (time_t)(pf->calldate_us / 1000000);
	struct tm tm;
	pcap_t *dead;
	FILE *fp = NULL;
	int fd = -1, err;

	gmtime_r(&secs, &tm);
	strftime(pf->rel, sizeof(pf->rel), "%Y-%m-%d/%H/%M", &tm);
	snprintf(path, sizeof(path), "%s/%s", sp->dir, pf->rel);
	err = vs_mkdir_p(path, 0755);
	if (err)
		goto fail;
	for (int i = 1; i < 100 && fd < 0; i++) {
		vs_spool__call_path(pf->rel, sizeof(pf->rel), pf->calldate_us,
				    pf->call_id, i);
		snprintf(path, sizeof(path), "%s/%s", sp->dir, pf->rel);
		fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
		if (fd < 0 && errno != EEXIST)
			break;
	}
	if (fd < 0) {
		err = -errno;
		goto fail;
	}
	fp = fdopen(fd, "wb");
	dead = dead_handle(sp, linktype);
	if (!fp || !dead) {
		err = -ENOMEM;
		goto fail;
	}
	setvbuf(fp, NULL, _IOFBF, SPOOL_FILE_BUF);
	pf->dump = pcap_dump_fopen(dead, fp);
	if (!pf->dump) {
		err = -EIO;
		goto fail;
	}
	pf->linktype = linktype;
	sp->st->files_opened++;
	return 0;
fail:
	if (fp)
		fclose(fp);
	else if (fd >= 0)
		close(fd);
	if (sp->st->files_failed++ == 0)
		vs_err("cannot write call pcap %s: %s", path, strerror(-err));
	pf->failed = 1;
	pf->rel[0] = '\0';
	return err;
}

void vs_spool_file__write(struct vs_spool *sp, struct vs_spool_file *pf,
			  const struct vs_frame *f, uint32_t snaplen)
{
	struct pcap_pkthdr h;

	if (!pf || pf->failed)
		return;
	if (!pf->dump && file_open(sp, pf, f->linktype) < 0)
		return;
	if (f->linktype != pf->linktype) {
		sp->st->frames_linktype++;
		return;
	}
	if (f->ts_us == pf->last_ts && f->origlen == pf->last_len &&
	    f->caplen == pf->last_caplen) {
		sp->st->frames_dup++;
		return;
	}
	pf->last_ts = f->ts_us;
	pf->last_len = f->origlen;
	pf->last_caplen = f->caplen;
	h.ts.tv_sec = (time_t)(f->ts_us / 1000000);
	h.ts.tv_usec = (suseconds_t)(f->ts_us % 1000000);
	h.caplen = snaplen < f->caplen ? snaplen : f->caplen;
	h.len = f->origlen;
	pcap_dump((u_char *)pf->dump, &h, f->data);
	sp->st->frames_written++;
}

const char *vs_spool_file__path(const struct vs_spool_file *pf)
{
	return pf && pf->dump ? pf->rel : "";
}

void vs_spool_file__close(struct vs_spool *sp, struct vs_spool_file *pf)
{
	if (!pf)
		return;
	if (pf->dump) {
		if (pcap_dump_flush(pf->dump) < 0)
			sp->st->write_errors++;
		pcap_dump_close(pf->dump);
	}
	free(pf->call_id);
	free(pf);
}

void vs_spool_stats__print(const struct vs_spool_stats *s, FILE *out)
{
#define VS_X(n) fprintf(out, "spool.%s %llu\n", #n, (unsigned long long)s->n);
	VS_SPOOL_STATS(VS_X)
#undef VS_X
}
