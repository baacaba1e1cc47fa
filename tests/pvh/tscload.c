// SPDX-License-Identifier: GPL-2.0-only
/*
 * Load for tests/pvh/death_hunt.py, run inside a PVH guest: a busy loop
 * of one kind, named by the first argument: r RDTSC, c clock_gettime
 * through the vDSO, b both, k clock_gettime as a real system call (each
 * system call's exit reads the TSC for the kernel stack offset), n 20 us
 * sleeps (a Xen timer and an event-channel upcall each). Prints a line
 * now and then so that a run can be seen to progress.
 */
#include <stdio.h>
#include <stdint.h>
#include <time.h>
#include <unistd.h>
#include <sys/syscall.h>
static inline uint64_t rdtsc(void){uint32_t a,d;__asm__ volatile("rdtsc":"=a"(a),"=d"(d));return ((uint64_t)d<<32)|a;}
int main(int argc,char**argv){
	int mode = argc>1 ? argv[1][0] : 'b';
	unsigned long n=0, mask = mode=='n' ? (1ul<<12)-1 : (1ul<<18)-1; uint64_t s=0; struct timespec ts, d={0,20000};
	for(;;){
		if(mode=='r'||mode=='b') s+=rdtsc();
		if(mode=='c'||mode=='b'){clock_gettime(CLOCK_MONOTONIC,&ts); s+=ts.tv_nsec;}
		if(mode=='k'){syscall(SYS_clock_gettime,CLOCK_MONOTONIC,&ts); s+=ts.tv_nsec;}
		if(mode=='n'){nanosleep(&d,NULL); s+=rdtsc();}
		if(((++n)&mask)==0){clock_gettime(CLOCK_REALTIME,&ts);printf("%c %lu %ld %llu\n",mode,n,(long)ts.tv_sec,(unsigned long long)s);fflush(stdout);}
	}
}
